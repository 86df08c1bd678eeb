// Mounts every demo widget on the page (again after each instant navigation) and
// drives it through the shared worker. The DOM contract: [data-demo] with
// data-state = idle | loading | running | paused | done | error, a Run button,
// [data-demo-frame] and a role="status" region.

import { Notice, RequestType } from "./messages.js";
import { decodeMoment, encodeMoment, LinkError, splitHash } from "./moments.js";
import { Deadline, DemoWorker, RuntimeFailure, WorkerGone } from "./protocol.js";
import { loadRecording } from "./recording.js";

const TICK_MS = 1000 / 30;
const REDUCED_TICK_MS = 1000;
const STATUS_EVERY_MS = 1000;
// A healthy batch of steps answers within demokit's 50 ms budget: Stop waits this long
// for its own request before it decides the request is stuck and ends the worker.
const STOP_GRACE_MS = 250;
// A run's first request imports the demo's code in the worker: it may take this many
// times the deadline of one batch of steps.
const START_DEADLINES = 5;

/** The page's one worker (exported so that tests can ask it how many runs it holds). */
export const shared = new DemoWorker();
const widgets = new Set();
let runs = 0;

const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

// The reader's choice of runtime, remembered in this browser for every demo of the site:
// "auto" plays recordings and loads the runtime when a change needs it (saying so and
// its size first); "live" loads it at once; "ask" never loads it without a click.
const CHOICE_KEY = "livenotes.runtime";
const CHOICES = new Set(["auto", "live", "ask"]);
function readChoice() {
  try {
    const stored = localStorage.getItem(CHOICE_KEY);
    return CHOICES.has(stored) ? stored : "auto";
  } catch {
    return "auto"; // storage blocked: the default, every visit
  }
}
function storeChoice(choice) {
  try {
    localStorage.setItem(CHOICE_KEY, choice);
  } catch {
    // not remembered; it still applies to this page
  }
}

shared.listeners.add((message) => {
  for (const widget of widgets) widget.onWorkerEvent(message);
});

function resolveSpec(spec) {
  const base = document.baseURI;
  return {
    ...spec,
    worker: new URL(spec.worker, base).href,
    wheels: spec.wheels.map((url) => new URL(url, base).href),
    runtime: spec.runtime && { ...spec.runtime, url: new URL(spec.runtime.url, base).href },
  };
}

function formatMB(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Splits `text` into lines of at most `width` characters, at spaces. */
function wrap(text, width) {
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** A standalone SVG document of `svg` (the frame on screen) with a title, the caption
 * and the moment's link, inside and printed below the picture. */
function standaloneSVG(svg, { title, caption, url }) {
  const box = (svg.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
  const [width, height] = box.length === 4 && box.every(Number.isFinite)
    ? [box[2], box[3]]
    : [svg.width.baseVal.value || 640, svg.height.baseVal.value || 480];
  const doc = document.implementation.createDocument(SVG_NS, "svg", null);
  const root = doc.documentElement;
  const add = (parent, tag, attributes = {}, text = null) => {
    const element = doc.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
    if (text !== null) element.textContent = text;
    parent.append(element);
    return element;
  };
  const lines = wrap(caption, Math.max(40, Math.floor(width / 6.6))).slice(0, 6);
  const extra = 16 + 16 * lines.length + 24;
  root.setAttribute("width", width);
  root.setAttribute("height", height + extra);
  root.setAttribute("viewBox", `0 0 ${width} ${height + extra}`);
  root.setAttribute("role", "img");
  add(root, "title", {}, title);
  add(root, "desc", {}, `${caption}\nThis moment: ${url}`);
  add(root, "rect", { x: 0, y: 0, width, height: height + extra, fill: "#ffffff" });
  const picture = doc.importNode(svg, true);
  picture.setAttribute("x", 0);
  picture.setAttribute("y", 0);
  picture.setAttribute("width", width);
  picture.setAttribute("height", height);
  root.append(picture);
  const text = { "font-family": "system-ui, sans-serif", "font-size": 12, fill: "#1f2328" };
  lines.forEach((line, index) => add(root, "text", { ...text, x: 8, y: height + 20 + 16 * index }, line));
  const link = add(root, "a", { href: url });
  add(link, "text", { ...text, fill: "#0b57d0", x: 8, y: height + extra - 10 }, url);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(doc)}\n`;
}

/** Saves `blob` as a file called `name`, through a link no other script sees. */
function save(blob, name) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.hidden = true;
  link.addEventListener("click", (event) => event.stopPropagation()); // not instant navigation's
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

class Widget {
  constructor(root) {
    this.root = root;
    this.spec = resolveSpec(JSON.parse(root.dataset.demoSpec));
    this.demo = this.spec.demo;
    this.q = (selector) => root.querySelector(selector);
    this.frame = this.q("[data-demo-frame]");
    this.status = this.q("[data-demo-status]");
    this.run = null; // run id in the worker, once started
    this.generation = 0;
    this.playing = false;
    this.pendingSteps = 0;
    this.lastStatusAt = 0;
    this.params = { ...this.spec.params };
    this.startParams = { ...this.params }; // what the current run started with
    this.scenario = this.spec.scenario;
    this.seed = this.spec.seed;
    this.timelineInput = this.q("[data-demo-timeline]");
    this.steps = 0; // the step on screen
    this.reached = 0; // the furthest step of the run, and the timeline's end
    this.now = 0;
    this.inputs = []; // the reader's inputs, as the worker recorded them
    this.moments = []; // what the timeline marks
    this.seekWanted = null;
    this.seeking = false;
    this.pendingMoment = null; // a linked moment waiting for Run
    this.recordings = this.spec.recordings || []; // recorded runs the build made
    this.rec = null; // the recording on screen (instead of a live run)
    this.recCursor = 0; // where playback is, in steps (fractional between frames)
    this.choice = readChoice();
    const choice = this.q("[data-demo-choice]"); // only when the build has a runtime
    if (choice) choice.value = this.choice;
    this.bind();
    this.syncControls();
    const height = Number(root.dataset.demoHeight);
    if (height) this.frame.style.setProperty("--ln-demo-height", `${height}px`);
    this.q("[data-demo-controls]").hidden = false;
    this.setState("idle");
    this.restoreFromHash();
  }

  // --- state ------------------------------------------------------------------

  /** A seed the demo kit accepts: the range comes from Python (demokit.SEED_MIN/MAX). */
  seedAllowed(seed) {
    const [low, high] = this.spec.seeds;
    return Number.isInteger(seed) && seed >= low && seed <= high;
  }

  setState(state, error = null) {
    this.root.dataset.state = state;
    if (error) this.root.dataset.error = error;
    else delete this.root.dataset.error;
    const run = this.q("[data-demo-run]");
    run.textContent = state === "error" ? "Run (retry)" : "Run";
    run.disabled = state === "loading";
    const pause = this.q("[data-demo-pause]");
    pause.disabled = !(state === "running" || state === "paused");
    pause.textContent = state === "paused" ? "Resume" : "Pause";
    this.q("[data-demo-stop]").disabled = !(state === "running" || state === "loading" || state === "paused");
    this.q("[data-demo-step]").disabled = state === "loading" || (state === "done" && this.steps >= this.reached);
    this.q("[data-demo-progress]").hidden = state !== "loading";
    if (this.pendingMoment && state !== "loading" && state !== "error") run.textContent = "Run to see this moment";
    this.syncTimeline();
  }

  // --- the timeline -------------------------------------------------------------

  timeText(now) {
    const unit = this.demo.time_unit;
    const value = Number(Number(now).toFixed(3));
    return unit ? `${value} ${unit}` : `time ${value}`;
  }

  momentText() {
    return `Step ${this.steps} of ${this.reached}, ${this.timeText(this.now)}`;
  }

  /** The slider, the clock and Step back, from the run's state. */
  syncTimeline(moveThumb = true) {
    const live = this.hasRun() && this.root.dataset.state !== "loading";
    const slider = this.timelineInput;
    slider.disabled = !live;
    slider.step = this.rec ? String(this.rec.stride) : "1";
    slider.max = String(this.reached);
    if (moveThumb) slider.value = String(this.steps);
    slider.setAttribute("aria-valuetext", live ? this.momentText() : "No run yet: Run or Step starts one");
    this.q("[data-demo-clock]").textContent = live ? this.momentText() : `Step ${this.steps}`;
    this.q("[data-demo-back]").disabled = !live || this.steps === 0;
    this.q("[data-demo-csv]").disabled = !this.hasRun();
    if (this.reached !== this.marksReached) this.placeMarks();
  }

  /** Marks on the track and the list of moments, from the worker's timeline. */
  drawMoments(moments) {
    this.moments = moments;
    const marks = this.q("[data-demo-marks]");
    const list = this.q("[data-demo-moments]");
    marks.replaceChildren();
    list.replaceChildren();
    for (const moment of moments) {
      const mark = document.createElement("span");
      mark.className = `ln-mark ln-mark--${moment.kind}`;
      mark.dataset.step = String(moment.step);
      marks.append(mark);
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = `ln-moment ln-moment--${moment.kind}`;
      button.dataset.demoSeekTo = String(moment.step);
      button.textContent = `Step ${moment.step}: ${moment.label}`;
      item.append(button);
      list.append(item);
    }
    this.q("[data-demo-moments-count]").textContent = String(moments.length);
    this.q("[data-demo-moments-box]").hidden = moments.length === 0;
    this.marksReached = null;
    this.placeMarks();
  }

  placeMarks() {
    this.marksReached = this.reached;
    for (const mark of this.q("[data-demo-marks]").children) {
      const share = this.reached ? Number(mark.dataset.step) / this.reached : 0;
      mark.style.left = `${(share * 100).toFixed(3)}%`;
    }
  }

  /** Show step `step` of the run (one the run has reached); the latest request wins. */
  scrub(step) {
    if (!this.hasRun() || this.root.dataset.state === "loading") return;
    if (this.root.dataset.state === "running") this.togglePause();
    if (this.rec) {
      this.showRecorded(Math.max(0, Math.min(this.reached, step)));
      const behind = this.steps < this.reached;
      if (behind && this.root.dataset.state === "done") this.setState("paused");
      else if (!behind && this.lastSnapshot.done) this.setState("done");
      this.say(`${this.momentText()} (recorded). ${this.lastSnapshot.status}`);
      return;
    }
    this.seekWanted = Math.max(0, Math.min(this.reached, Math.round(step)));
    if (!this.seeking) this.seekLoop();
  }

  async seekLoop() {
    this.seeking = true;
    const generation = this.generation;
    try {
      while (this.seekWanted !== null) {
        const step = this.seekWanted;
        this.seekWanted = null;
        const reply = await shared.request(RequestType.SEEK, { run: this.run, step }, this.spec.timeouts.step, this);
        if (generation !== this.generation) return;
        this.render(reply.snapshot, reply.output, false, this.seekWanted === null);
      }
      const behind = this.steps < this.reached;
      if (behind && this.root.dataset.state === "done") this.setState("paused");
      else if (!behind && this.lastSnapshot.done) this.setState("done");
      const later = behind ? " Run or an action continues from here and drops the later steps." : "";
      this.say(`${this.momentText()}.${later} ${this.lastSnapshot.status}`);
    } catch (error) {
      if (generation === this.generation) this.fail(error);
    } finally {
      this.seeking = false;
    }
  }

  /** Says that acting or playing after seeking back dropped the later history. */
  sayDropped(snapshot) {
    const dropped = snapshot.dropped || 0;
    if (dropped <= 0) return;
    const from = snapshot.steps - (snapshot.ran || 0);
    const steps = `${dropped} step${dropped === 1 ? "" : "s"}`;
    this.say(`The run forked at step ${from}: the later history (${steps}) was dropped. ${snapshot.status}`);
  }

  say(text, force = true) {
    const now = performance.now();
    if (!force && now - this.lastStatusAt < STATUS_EVERY_MS) return;
    this.lastStatusAt = now;
    if (this.status.textContent !== text) this.status.textContent = text;
  }

  onWorkerEvent(message) {
    if (message.type === Notice.PROGRESS && this.root.dataset.state === "loading") {
      this.say(this.loadingNote ? `${this.loadingNote} ${message.stage}` : message.stage);
    }
    // The culprit reports its own stop or deadline; a widget still loading hears of it
    // through its rejected request (see fail).
    if (message.type === Notice.TERMINATED && message.culprit !== this && this.run !== null) this.halted(message.reason);
  }

  /** Another widget ended the worker: this run is gone, its last frame stays. */
  halted(reason) {
    this.generation += 1;
    this.run = null;
    this.playing = false;
    this.enableActions(true);
    this.setState("idle");
    this.say(`Stopped, because ${reason}. The picture shows the last frame; Run starts a fresh run.`);
  }

  // --- controls ---------------------------------------------------------------

  bind() {
    const on = (selector, event, handler) => {
      for (const element of this.root.querySelectorAll(selector)) element.addEventListener(event, handler);
    };
    const run = this.q("[data-demo-run]");
    const warm = () => this.warm();
    run.addEventListener("pointerenter", warm, { once: true });
    run.addEventListener("focus", warm, { once: true });
    on("[data-demo-run]", "click", () => {
      // Paused runs carry the reader's actions: Run continues them instead of starting over.
      if (this.pendingMoment) this.showMoment(this.pendingMoment);
      else if (this.rec && this.steps >= this.rec.end && !this.rec.done) this.takeOver("Going on past the recording", () => this.play());
      else if (this.root.dataset.state === "paused" && this.hasRun()) {
        this.generation += 1;
        this.play();
      } else this.start({ play: true });
    });
    on("[data-demo-choice]", "change", (event) => this.choose(event.target.value));
    on("[data-demo-load]", "click", () => {
      const waiting = this.waiting;
      this.waiting = null;
      this.q("[data-demo-load]").hidden = true;
      if (waiting) this.takeOver(waiting.reason, waiting.after, { approved: true, handover: waiting.handover });
    });
    on("[data-demo-pause]", "click", () => this.togglePause());
    on("[data-demo-step]", "click", () => {
      if (this.rec && this.steps < this.rec.end) this.scrub(this.steps + this.rec.stride);
      else if (this.rec) this.takeOver("Going on past the recording", () => this.stepOnce());
      else if (this.run !== null && this.steps < this.reached) this.scrub(this.steps + 1);
      else this.stepOnce();
    });
    on("[data-demo-back]", "click", () => this.scrub(this.steps - 1));
    on("[data-demo-timeline]", "input", (event) => this.scrub(Number(event.target.value)));
    on("[data-demo-svg]", "click", () => this.downloadSVG());
    on("[data-demo-csv]", "click", () => this.downloadCSV());
    this.q("[data-demo-moments]").addEventListener("click", (event) => {
      const button = event.target.closest("[data-demo-seek-to]");
      if (button) this.scrub(Number(button.dataset.demoSeekTo));
    });
    on("[data-demo-reset]", "click", () => this.reset());
    on("[data-demo-stop]", "click", () => this.stop());
    on("[data-demo-link]", "click", () => this.copyLink());
    on("[data-demo-scenario]", "change", (event) => this.chooseScenario(event.target.value));
    on("[data-demo-seed]", "change", (event) => {
      const seed = Number.parseInt(event.target.value, 10);
      if (this.seedAllowed(seed)) {
        this.seed = seed;
        this.restartIfStarted();
      } else event.target.value = String(this.seed);
    });
    on("[data-demo-param]", "input", (event) => this.showValue(event.target));
    on("[data-demo-param]", "change", (event) => this.changeParam(event.target));
    on("[data-demo-action]", "click", (event) => {
      const name = event.currentTarget.dataset.demoAction;
      const picker = this.root.querySelector(`[data-demo-action-arg="${name}"]`);
      this.act(name, picker ? picker.value : null);
    });
  }

  paramSpec(name) {
    return this.demo.params.find((param) => param.name === name);
  }

  syncControls() {
    for (const input of this.root.querySelectorAll("[data-demo-param]")) {
      const value = this.params[input.dataset.demoParam];
      if (input.type === "checkbox") input.checked = Boolean(value);
      else input.value = String(value);
      this.showValue(input);
    }
    this.q("[data-demo-scenario]").value = this.scenario;
    this.q("[data-demo-seed]").value = String(this.seed);
    const scenario = this.demo.scenarios.find((s) => s.name === this.scenario);
    const caption = this.q("[data-demo-caption]");
    caption.replaceChildren();
    const title = document.createElement("strong");
    title.textContent = `${scenario.title}.`;
    caption.append(title, ` ${scenario.caption}`);
  }

  showValue(input) {
    const output = this.root.querySelector(`[data-demo-value="${input.dataset.demoParam}"]`);
    if (output) output.textContent = input.value;
  }

  readParam(input) {
    const param = this.paramSpec(input.dataset.demoParam);
    if (param.kind === "bool") return input.checked;
    if (param.kind === "int") return Number.parseInt(input.value, 10);
    if (param.kind === "float") return Number.parseFloat(input.value);
    return input.value;
  }

  async changeParam(input) {
    const name = input.dataset.demoParam;
    this.params[name] = this.readParam(input);
    if (this.rec) {
      const param = this.paramSpec(name);
      // A live change continues the run from the step on screen; any other starts afresh.
      if (param.live) this.takeOver(`Changing ${param.label}`, () => this.changeParam(input));
      else await this.restartIfStarted();
      return;
    }
    if (this.run === null) return;
    const generation = this.generation;
    try {
      const reply = await shared.request(RequestType.SET, { run: this.run, name, value: this.params[name] }, this.spec.timeouts.step, this);
      if (generation !== this.generation) return;
      if (reply.snapshot.live) {
        this.render(reply.snapshot);
        this.sayDropped(reply.snapshot);
      } else await this.restartIfStarted();
    } catch (error) {
      if (generation === this.generation) this.fail(error);
    }
  }

  chooseScenario(name) {
    const scenario = this.demo.scenarios.find((s) => s.name === name);
    this.scenario = name;
    this.params = { ...scenario.params };
    this.syncControls();
    this.restartIfStarted();
  }

  async restartIfStarted() {
    if (this.hasRun()) await this.start({ play: this.playing });
  }

  hasRun() {
    return this.run !== null || this.rec !== null;
  }

  // --- recorded runs ----------------------------------------------------------------

  /** The build's recording of the current setup, if there is one. */
  recordingEntry(moment = null) {
    const setup = moment || { scenario: this.scenario, params: this.params, seed: this.seed };
    const entry = this.recordings.find(
      (r) => r.scenario === setup.scenario && r.seed === setup.seed && Object.entries(r.params).every(([k, v]) => setup.params[k] === v),
    );
    if (!entry || !moment) return entry || null;
    // A moment a recording shows: no reader inputs, and a step it has a frame for.
    const onGrid = moment.step % entry.stride === 0 || moment.step === entry.end;
    return moment.inputs.length === 0 && moment.step <= entry.end && onGrid ? entry : null;
  }

  recordingURL(entry) {
    return new URL(entry.url, document.baseURI).href;
  }

  async startRecording({ play, moment, entry }) {
    const generation = ++this.generation;
    this.playing = false;
    this.setState("loading");
    this.say("Loading the recorded run…");
    try {
      const recording = await loadRecording(this.recordingURL(entry));
      if (generation !== this.generation) return;
      this.drop();
      this.rec = recording;
      this.root.dataset.source = "recording";
      this.startParams = { ...this.params };
      this.pendingMoment = null;
      this.reached = 0;
      this.recCursor = moment ? moment.step : 0;
      this.drawMoments([]);
      this.clearOutput();
      this.showRecorded(this.recCursor);
      this.enableActions(true);
      if (play) this.play();
      else {
        this.setState(this.lastSnapshot.done ? "done" : "paused");
        const title = this.scenarioSpec().title;
        if (moment) this.say(`“${title}” at step ${this.steps} (${this.timeText(this.now)}), as linked; recorded. ${this.lastSnapshot.status}`);
        else this.say(`Ready at step 0 (a recorded run). ${this.lastSnapshot.status}`);
      }
    } catch (error) {
      if (generation !== this.generation) return;
      this.rec = null;
      this.setState("idle");
      const live = this.spec.runtime ? " Run again to use the Python runtime instead." : "";
      this.say(`The recorded run could not load (${error.message}).${live}`);
      this.recordings = this.recordings.filter((r) => r !== entry);
    }
  }

  /** Show the recorded frame at `step` (the last one at or before it). */
  showRecorded(step) {
    const frame = this.rec.frameAt(step);
    this.recCursor = step;
    const reached = Math.max(this.reached, frame.steps);
    const moments = reached !== this.reached || !this.moments.length ? this.rec.timeline(reached) : null;
    this.render({ ...frame, reached, ...(moments && moments.length !== this.moments.length ? { timeline: moments } : {}) });
  }

  /** Hand the run on screen to the Python runtime, at the very step shown, then do
   * `after` (the change that needed it). The reader hears why and how big first. */
  async takeOver(reason, after = null, { approved = false, handover = true } = {}) {
    if (!this.spec.runtime) {
      this.say(`${reason} needs the Python runtime, and this build has none: the recording is all there is.`);
      return;
    }
    const size = formatMB(this.spec.runtime.bytes);
    if (this.choice === "ask" && !approved && !shared.booted) {
      if (this.root.dataset.state === "running") this.togglePause();
      this.waiting = { reason, after, handover };
      const button = this.q("[data-demo-load]");
      button.textContent = `Load the Python runtime (${size})`;
      button.hidden = false;
      this.say(`${reason} needs the Python runtime (${size}). Load it with the button below Run, or keep watching the recording.`);
      return;
    }
    if (!handover) {
      await after(); // a fresh run: nothing on screen to continue from
      return;
    }
    const playing = this.playing;
    const moment = { scenario: this.scenario, seed: this.seed, params: { ...this.startParams }, inputs: [], step: this.steps };
    this.say(shared.booted ? `${reason}: continuing live from step ${moment.step}…` : `${reason} needs the Python runtime (${size}); loading it, then continuing from step ${moment.step}…`);
    this.rec = null;
    this.loadingNote = shared.booted ? null : `${reason} needs the Python runtime (${size}).`;
    await this.startLive({ play: false, moment, quiet: true });
    this.loadingNote = null;
    if (this.run === null) return;
    if (after) await after();
    else if (playing) this.play();
  }

  /** The reader changed their choice of runtime (for every demo, remembered). */
  choose(choice) {
    if (!CHOICES.has(choice)) return;
    storeChoice(choice);
    for (const widget of widgets) {
      widget.choice = choice;
      const select = widget.q("[data-demo-choice]");
      if (select) select.value = choice;
    }
    if (choice === "live" && this.rec) this.takeOver("Switching to the live runtime");
    else if (choice === "live") this.warm();
    this.say(
      choice === "live"
        ? "The Python runtime loads at once from now on, on every page of this site."
        : choice === "ask"
          ? "The Python runtime loads only when you press its button, on every page of this site."
          : "Recorded runs play first; the Python runtime loads when a change needs it, after saying so.",
    );
  }

  // --- running ----------------------------------------------------------------

  warm() {
    const entry = this.choice !== "live" && this.recordingEntry(this.pendingMoment);
    if (entry) {
      loadRecording(this.recordingURL(entry)).catch(() => {}); // the click reports a failure
      return;
    }
    if (!this.spec.runtime || this.choice === "ask") return;
    shared.prepare(this.spec, this.spec.timeouts).catch(() => {
      // The click that follows reports the failure with the widget's own message.
    });
  }

  async start({ play, moment = null }) {
    const entry = this.choice !== "live" && (moment ? this.recordingEntry(moment) : this.recordingEntry());
    if (entry) return this.startRecording({ play, moment, entry });
    if (this.choice === "ask" && !shared.booted && this.spec.runtime) {
      const reason = moment ? `Showing step ${moment.step}` : "This setup has no recorded run, so it";
      this.takeOver(reason, () => this.startLive({ play, moment }), { handover: false });
      return;
    }
    return this.startLive({ play, moment });
  }

  async startLive({ play, moment = null, quiet = false }) {
    if (!this.spec.runtime) {
      this.setState("error", "runtime");
      this.say("This build has no Python runtime; demos cannot run here.");
      return;
    }
    const generation = ++this.generation;
    this.playing = false;
    this.setState("loading");
    const download = `the Python runtime (${formatMB(this.spec.runtime.bytes)})`;
    if (quiet) {
      // the caller said what is happening
    } else if (moment) this.say(shared.booted ? `Rebuilding step ${moment.step}…` : `Downloading ${download} to show step ${moment.step}…`);
    else this.say(shared.booted ? "Starting the demo…" : `Downloading ${download}…`);
    let run = null;
    try {
      await shared.prepare(this.spec, this.spec.timeouts);
      if (generation !== this.generation) return;
      this.drop();
      run = ++runs;
      const params = moment ? moment.params : this.params;
      const request = { run, demo: this.demo.name, scenario: this.scenario, params, seed: this.seed };
      if (moment) Object.assign(request, { inputs: moment.inputs, step: moment.step });
      // The first start also imports the demo's code: give it more than one batch's time.
      let reply = await shared.request(RequestType.START, request, this.spec.timeouts.step * START_DEADLINES, this);
      // A linked moment: step on to it in slices, as playing does (each within the
      // worker's time budget), replaying the link's inputs on the way.
      while (moment && generation === this.generation && reply.snapshot.steps < moment.step) {
        const { steps } = reply.snapshot;
        const next = await shared.request(RequestType.STEP, { run, count: moment.step - steps }, this.spec.timeouts.step, this);
        if (next.snapshot.ran === 0) throw new LinkError(`this run ends at step ${steps}, before step ${moment.step}`);
        reply = next;
        this.say(`Rebuilding step ${moment.step}… ${Math.floor((100 * next.snapshot.steps) / moment.step)} %`, false);
      }
      if (generation !== this.generation) {
        this.drop(run); // stopped or restarted while it started: nobody will use it
        return;
      }
      this.run = run;
      this.rec = null;
      this.root.dataset.source = "live";
      this.startParams = { ...params };
      this.pendingMoment = null;
      this.clearOutput();
      this.render(reply.snapshot, reply.output);
      this.enableActions(true);
      if (play) this.play();
      else {
        this.setState(reply.snapshot.done ? "done" : "paused");
        const title = this.scenarioSpec().title;
        if (quiet) this.say(`Live from step ${this.steps} (${this.timeText(this.now)}). ${reply.snapshot.status}`);
        else if (moment) this.say(`“${title}” at step ${this.steps} (${this.timeText(this.now)}), as linked. ${reply.snapshot.status}`);
        else this.say(`Ready at step 0. ${reply.snapshot.status}`);
      }
    } catch (error) {
      if (run !== null && run !== this.run) this.drop(run); // a linked moment that failed
      if (generation !== this.generation) return;
      const runtime = error instanceof RuntimeFailure || error instanceof Deadline || error instanceof WorkerGone;
      if (moment && !runtime) this.linkFailed(error.message);
      else this.fail(error);
    }
  }

  scenarioSpec() {
    return this.demo.scenarios.find((s) => s.name === this.scenario);
  }

  play() {
    this.playing = true;
    this.forkNext = this.steps < this.reached; // playing from a step seeked back to
    this.setState("running");
    this.loop(this.generation);
  }

  async loop(generation) {
    let last = performance.now();
    while (this.playing && generation === this.generation && this.root.isConnected) {
      const tick = reducedMotion.matches ? REDUCED_TICK_MS : TICK_MS;
      const speed = Number(this.q("[data-demo-speed]").value) || 1;
      const now = performance.now();
      this.pendingSteps += (this.demo.steps_per_second * speed * Math.min(now - last, 250)) / 1000;
      last = now;
      const count = Math.floor(this.pendingSteps);
      if (count > 0 && this.rec) {
        this.pendingSteps -= count;
        const end = this.rec.end;
        this.showRecorded(Math.min(end, this.recCursor + count));
        if (this.steps >= end) {
          this.playing = false;
          if (this.rec.done) {
            this.setState("done");
            this.say(`Finished. ${this.lastSnapshot.status}`);
          } else {
            this.setState("paused");
            const size = this.spec.runtime ? ` needs the Python runtime (${formatMB(this.spec.runtime.bytes)}): Run goes on live` : " is as far as this build recorded";
            this.say(`The recording ends here, at step ${end}. Going on${size}.`);
          }
          return;
        }
      } else if (count > 0) {
        this.pendingSteps -= count;
        try {
          const fork = this.forkNext;
          this.forkNext = false;
          const reply = await shared.request(RequestType.STEP, { run: this.run, count, fork }, this.spec.timeouts.step, this);
          if (generation !== this.generation) return;
          this.render(reply.snapshot, reply.output, false);
          this.sayDropped(reply.snapshot);
          if (reply.snapshot.done) {
            this.playing = false;
            this.setState("done");
            this.say(`Finished. ${reply.snapshot.status}`);
            return;
          }
        } catch (error) {
          if (generation === this.generation) this.fail(error);
          return;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, tick));
    }
  }

  togglePause() {
    if (this.root.dataset.state === "running") {
      this.playing = false;
      this.generation += 1; // ends the loop
      this.setState("paused");
      this.say(`Paused. ${this.lastSnapshot?.status ?? ""}`);
    } else if (this.root.dataset.state === "paused") {
      this.generation += 1;
      this.play();
    }
  }

  async stepOnce() {
    if (!this.hasRun()) {
      await this.start({ play: false });
      if (this.rec) {
        this.scrub(this.rec.stride); // the recording's next frame
        return;
      }
      if (this.run === null) return;
    }
    if (this.root.dataset.state === "running") this.togglePause();
    const generation = this.generation;
    try {
      const reply = await shared.request(RequestType.STEP, { run: this.run, count: 1 }, this.spec.timeouts.step, this);
      if (generation !== this.generation) return;
      this.render(reply.snapshot, reply.output);
      if (reply.snapshot.done) this.setState("done");
    } catch (error) {
      if (generation === this.generation) this.fail(error);
    }
  }

  async reset() {
    if (!this.hasRun() && this.root.dataset.state !== "error") return;
    await this.start({ play: false });
  }

  stop() {
    this.generation += 1;
    this.playing = false;
    this.rec = null;
    this.drop();
    // Only this widget's own request, still running in Python, needs the worker ended.
    // A runtime still loading keeps loading for the next Run, and other widgets'
    // requests are theirs.
    shared.release(
      this,
      STOP_GRACE_MS,
      new WorkerGone("another demo on this page was stopped mid-step, which restarts the Python runtime", this),
    );
    this.enableActions(true);
    this.setState("idle");
    this.say("Stopped. Run starts a fresh run.");
  }

  /** Forget `run` (by default this widget's current one) in the worker. */
  drop(run = this.run) {
    if (run === this.run) this.run = null;
    if (run !== null && shared.worker) shared.request(RequestType.DROP, { run }, this.spec.timeouts.step).catch(() => {});
  }

  async act(name, arg) {
    if (this.rec) {
      const action = this.demo.actions.find((a) => a.name === name);
      this.takeOver(action ? action.label : name, () => this.act(name, arg));
      return;
    }
    if (this.run === null) {
      await this.start({ play: false });
      if (this.run === null) return;
    }
    const generation = this.generation;
    try {
      const reply = await shared.request(RequestType.ACT, { run: this.run, action: name, arg }, this.spec.timeouts.step, this);
      if (generation !== this.generation) return;
      this.render(reply.snapshot, reply.output);
      this.sayDropped(reply.snapshot);
      // An action can wake a finished simulation (a restarted instance, a new client).
      if (this.root.dataset.state === "done" && !reply.snapshot.done) this.setState("paused");
    } catch (error) {
      if (generation === this.generation) this.fail(error);
    }
  }

  enableActions(enabled) {
    for (const button of this.root.querySelectorAll("[data-demo-action]")) button.disabled = !enabled;
  }

  fail(error) {
    if (error instanceof WorkerGone && error.culprit && error.culprit !== this) {
      this.halted(error.message); // another widget ended the worker under this request
      return;
    }
    this.generation += 1;
    this.playing = false;
    if (error instanceof RuntimeFailure) {
      // Not the demo's fault: a file of the runtime or of the demo's code did not load.
      this.run = null;
      this.setState("error", "runtime");
      const what = error.file && error.file.endsWith(".whl") ? "The demo's code" : "The Python runtime";
      this.say(`${what} could not load: ${error.message}. Run (retry) loads it again.`);
    } else if (error instanceof Deadline && error.message.startsWith(RequestType.BOOT)) {
      this.run = null;
      this.setState("error", "runtime");
      this.say(`The Python runtime did not load in time (${error.message}). Run (retry) tries again.`);
    } else if (error instanceof Deadline) {
      this.run = null;
      this.setState("error", "deadline");
      this.say(`Stopped: ${error.message}, so the demo was halted. Run (retry) starts a fresh worker.`);
    } else if (error instanceof WorkerGone) {
      this.run = null;
      this.setState("error", "runtime");
      this.say(`The Python runtime stopped: ${error.message}. Run (retry) starts it again.`);
    } else {
      this.setState("error", "demo");
      this.say(`The demo raised an error: ${error.message}. Reset or Run starts it again.`);
    }
    if (error.traceback) this.appendOutput([error.traceback], 0);
    if (error.output) this.appendOutput(error.output.lines, error.output.dropped);
  }

  // --- drawing ----------------------------------------------------------------

  render(snapshot, output, force = true, moveThumb = true) {
    this.lastSnapshot = snapshot;
    if (snapshot.svg) this.frame.innerHTML = snapshot.svg;
    if (typeof snapshot.steps === "number") this.steps = snapshot.steps;
    if (typeof snapshot.now === "number") this.now = snapshot.now;
    if (typeof snapshot.reached === "number") this.reached = snapshot.reached;
    if (snapshot.inputs) this.inputs = snapshot.inputs;
    if (snapshot.timeline) this.drawMoments(snapshot.timeline);
    this.syncTimeline(moveThumb);
    const metrics = this.q("[data-demo-metrics]");
    metrics.replaceChildren(
      ...snapshot.metrics.map(([label, value]) => {
        const row = document.createElement("div");
        const dt = document.createElement("dt");
        const dd = document.createElement("dd");
        dt.textContent = label;
        dd.textContent = value;
        row.append(dt, dd);
        return row;
      }),
    );
    const log = this.q("[data-demo-log]");
    log.replaceChildren(
      ...snapshot.log.map((line) => {
        const item = document.createElement("li");
        item.textContent = line;
        return item;
      }),
    );
    log.scrollTop = log.scrollHeight;
    this.say(snapshot.status, force);
    if (output) this.appendOutput(output.lines, output.dropped);
  }

  clearOutput() {
    const pre = this.q("[data-demo-output]");
    pre.textContent = "";
    pre.hidden = true;
    this.outputLines = 0;
  }

  appendOutput(lines, dropped) {
    if (!lines.length && !dropped) return;
    const pre = this.q("[data-demo-output]");
    const MAX = 400;
    this.outputLines = this.outputLines || 0;
    const room = Math.max(0, MAX - this.outputLines);
    const shown = lines.slice(0, room);
    this.outputLines += shown.length;
    let text = shown.join("\n");
    const cut = dropped + (lines.length - shown.length);
    if (cut > 0) text += `\n… ${cut} more line(s) of output not shown`;
    pre.textContent = `${pre.textContent}${pre.textContent ? "\n" : ""}${text}`.slice(-40000);
    pre.hidden = false;
  }

  // --- links to a moment ---------------------------------------------------------

  /** The link to what is on screen: the run's start, the reader's inputs, the step. */
  momentURL() {
    const started = this.hasRun();
    const query = encodeMoment(this.demo, {
      scenario: this.scenario,
      seed: this.seed,
      step: started ? this.steps : 0,
      params: started ? this.startParams : this.params,
      inputs: this.run !== null ? this.inputs : [],
    });
    return `${location.href.split("#")[0]}#${this.root.id}?${query}`;
  }

  /** Links the page was opened with: this embed's moment, or the older setup links. */
  restoreFromHash() {
    if (this.root.dataset.restored) return;
    if (location.hash.startsWith("#demo=")) {
      this.restoreSetup();
      return;
    }
    const { id, query } = splitHash(location.hash);
    if (id !== this.root.id || query === null) return;
    this.root.dataset.restored = "true";
    this.followLink(query, { scroll: true, run: shared.booted });
  }

  /** Set this embed to the moment `query` names. Without a loaded runtime it waits for
   * Run (`run` false) or downloads it at once, having said the size (`run` true). */
  followLink(query, { scroll = true, run = true } = {}) {
    if (scroll) this.root.scrollIntoView({ behavior: reducedMotion.matches ? "auto" : "smooth", block: "start" });
    let moment;
    try {
      moment = decodeMoment(query, this.demo, this.spec.seeds);
    } catch (error) {
      if (!(error instanceof LinkError)) throw error;
      this.linkFailed(error.message);
      return;
    }
    this.generation += 1;
    this.playing = false;
    this.scenario = moment.scenario;
    this.params = { ...moment.params };
    this.seed = moment.seed;
    this.syncControls();
    this.pendingMoment = moment;
    if (run || shared.booted) {
      this.showMoment(moment);
      return;
    }
    this.setState(this.hasRun() ? this.root.dataset.state : "idle");
    const title = this.scenarioSpec().title;
    const size = this.spec.runtime ? `; the first time, this downloads the Python runtime (${formatMB(this.spec.runtime.bytes)})` : "";
    this.say(`This link shows step ${moment.step} of “${title}”. Run to see this moment${size}. The picture is the build's preview until then.`);
  }

  showMoment(moment) {
    this.start({ play: false, moment });
  }

  /** A link that cannot be shown: say why, and show the scenario's start instead. */
  linkFailed(reason) {
    this.pendingMoment = null;
    const scenario = this.scenarioSpec() || this.demo.scenarios[0];
    this.scenario = scenario.name;
    this.params = { ...scenario.params };
    this.syncControls();
    const restart = this.hasRun() || shared.booted;
    this.setState(this.hasRun() ? this.root.dataset.state : "idle");
    const message = `This link could not be used: ${reason}. Showing the start of “${scenario.title}” instead.`;
    if (restart) {
      this.start({ play: false }).then(() => this.say(message));
    } else this.say(message);
  }

  /** The setup links of earlier versions (#demo=NAME&scenario=..&seed=..&p.NAME=..). */
  restoreSetup() {
    const query = new URLSearchParams(location.hash.slice(1));
    if (query.get("demo") !== this.demo.name) return;
    const first = document.querySelector(`[data-demo="${this.demo.name}"]`);
    if (first !== this.root) return;
    const scenario = this.demo.scenarios.find((s) => s.name === query.get("scenario"));
    if (scenario) {
      this.scenario = scenario.name;
      this.params = { ...scenario.params };
    }
    const seed = Number.parseInt(query.get("seed"), 10);
    if (this.seedAllowed(seed)) this.seed = seed;
    for (const param of this.demo.params) {
      const raw = query.get(`p.${param.name}`);
      if (raw === null) continue;
      let value = raw;
      if (param.kind === "bool") value = raw === "true";
      else if (param.kind === "int" || param.kind === "float") {
        value = Number(raw);
        if (!Number.isFinite(value) || value < param.min || value > param.max) continue;
      } else if (!param.choices.some(([choice]) => choice === raw)) continue;
      this.params[param.name] = value;
    }
    this.root.dataset.restored = "true";
    this.syncControls();
    this.root.scrollIntoView();
  }

  async copyLink() {
    const url = this.momentURL();
    history.replaceState(history.state, "", url);
    const what = this.hasRun() ? `step ${this.steps}` : "this setup";
    try {
      await navigator.clipboard.writeText(url);
      this.say(`Link to ${what} copied.`);
    } catch {
      this.say(`Link to ${what} is now in the address bar.`);
    }
  }

  // --- downloads --------------------------------------------------------------------

  fileName(extension) {
    const step = this.hasRun() ? `step-${this.steps}` : "preview";
    return `${this.demo.name}-${this.scenario}-seed-${this.seed}-${step}.${extension}`;
  }

  downloadSVG() {
    const svg = this.frame.querySelector("svg");
    if (!svg) {
      this.say("There is no picture to download yet.");
      return;
    }
    const scenario = this.scenarioSpec();
    const when = this.hasRun() ? this.momentText().toLowerCase() : "the build's preview";
    const caption = `${scenario.title}. ${scenario.caption}`;
    const text = standaloneSVG(svg, { title: `${this.demo.title}: ${scenario.title}, ${when}`, caption, url: this.momentURL() });
    save(new Blob([text], { type: "image/svg+xml" }), this.fileName("svg"));
    this.say(`Saved ${this.fileName("svg")}: the picture, its caption and a link to this moment.`);
  }

  async downloadCSV() {
    if (this.rec) {
      const csv = this.rec.csv(this.reached, this.demo.time_unit);
      save(new Blob([csv], { type: "text/csv" }), this.fileName("csv"));
      const rows = csv.trimEnd().split("\n").length - 1;
      this.say(`Saved ${this.fileName("csv")}: the recorded run's metrics over simulated time, ${rows} rows.`);
      return;
    }
    if (this.run === null) return;
    if (this.root.dataset.state === "running") this.togglePause();
    const generation = this.generation;
    const button = this.q("[data-demo-csv]");
    button.disabled = true;
    try {
      let reply = { done: false };
      for (let first = true; !reply.done; first = false) {
        reply = await shared.request(RequestType.SERIES, { run: this.run, first }, this.spec.timeouts.step, this);
        if (generation !== this.generation) return;
        if (!reply.done) this.say(`Gathering the run's metrics… ${Math.round(reply.progress * 100)} %`);
      }
      const rows = reply.csv.trimEnd().split("\n").length - 1;
      save(new Blob([reply.csv], { type: "text/csv" }), this.fileName("csv"));
      this.say(`Saved ${this.fileName("csv")}: the run's metrics over simulated time, ${rows} rows.`);
    } catch (error) {
      if (generation === this.generation) this.fail(error);
    } finally {
      button.disabled = !this.hasRun();
    }
  }

  dispose() {
    this.generation += 1;
    this.playing = false;
    this.drop();
  }
}

function mountAll() {
  for (const widget of [...widgets]) {
    if (!widget.root.isConnected) {
      widget.dispose();
      widgets.delete(widget);
    }
  }
  for (const root of document.querySelectorAll("[data-demo]:not([data-mounted])")) {
    root.dataset.mounted = "true";
    try {
      widgets.add(new Widget(root));
    } catch (error) {
      root.dataset.state = "error";
      const status = root.querySelector("[data-demo-status]");
      if (status) status.textContent = `This demo could not be set up: ${error.message}`;
    }
  }
}

function widgetFor(id) {
  const root = document.getElementById(id);
  return [...widgets].find((widget) => widget.root === root) || null;
}

// A note's links to a moment (the build writes them with data-demo-moment): the demo
// they name goes to that moment, and the address becomes the moment's link. Captured
// before instant navigation sees the click.
document.addEventListener(
  "click",
  (event) => {
    const link = event.target instanceof Element && event.target.closest("a[data-demo-moment]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const widget = widgetFor(link.dataset.demoMoment);
    if (!widget) return;
    event.preventDefault();
    event.stopPropagation();
    const hash = new URL(link.href).hash;
    history.replaceState(history.state, "", hash);
    widget.followLink(splitHash(hash).query ?? "", { scroll: true, run: true });
    widget.frame.focus({ preventScroll: true });
  },
  true,
);

// A moment's link typed or pasted into the address bar of a page already open.
window.addEventListener("hashchange", () => {
  const { id, query } = splitHash(location.hash);
  const widget = query !== null && widgetFor(id);
  if (widget) widget.followLink(query, { scroll: true, run: true });
});

// Material re-renders the page on instant navigation and announces it on document$.
if (window.document$) window.document$.subscribe(mountAll);
else mountAll();
