// Mounts every demo widget on the page (again after each instant navigation) and
// drives it through the shared worker. The DOM contract: [data-demo] with
// data-state = idle | loading | running | paused | done | error, a Run button,
// [data-demo-frame] and a role="status" region.

import { Notice, RequestType } from "./messages.js";
import { Deadline, DemoWorker, RuntimeFailure, WorkerGone } from "./protocol.js";

const TICK_MS = 1000 / 30;
const REDUCED_TICK_MS = 1000;
const STATUS_EVERY_MS = 1000;
// A healthy batch of steps answers within demokit's 50 ms budget: Stop waits this long
// for its own request before it decides the request is stuck and ends the worker.
const STOP_GRACE_MS = 250;

/** The page's one worker (exported so that tests can ask it how many runs it holds). */
export const shared = new DemoWorker();
const widgets = new Set();
let runs = 0;

const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

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
    this.scenario = this.spec.scenario;
    this.seed = this.spec.seed;
    this.restoreFromHash();
    this.bind();
    this.syncControls();
    const height = Number(root.dataset.demoHeight);
    if (height) this.frame.style.setProperty("--ln-demo-height", `${height}px`);
    this.q("[data-demo-controls]").hidden = false;
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
    this.q("[data-demo-step]").disabled = state === "loading" || state === "done";
    this.q("[data-demo-progress]").hidden = state !== "loading";
  }

  say(text, force = true) {
    const now = performance.now();
    if (!force && now - this.lastStatusAt < STATUS_EVERY_MS) return;
    this.lastStatusAt = now;
    if (this.status.textContent !== text) this.status.textContent = text;
  }

  onWorkerEvent(message) {
    if (message.type === Notice.PROGRESS && this.root.dataset.state === "loading") this.say(message.stage);
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
      if (this.root.dataset.state === "paused" && this.run !== null) {
        this.generation += 1;
        this.play();
      } else this.start({ play: true });
    });
    on("[data-demo-pause]", "click", () => this.togglePause());
    on("[data-demo-step]", "click", () => this.stepOnce());
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
    if (this.run === null) return;
    const generation = this.generation;
    try {
      const reply = await shared.request(RequestType.SET, { run: this.run, name, value: this.params[name] }, this.spec.timeouts.step, this);
      if (generation !== this.generation) return;
      if (reply.snapshot.live) this.render(reply.snapshot);
      else await this.restartIfStarted();
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
    if (this.run !== null) await this.start({ play: this.playing });
  }

  // --- running ----------------------------------------------------------------

  warm() {
    if (!this.spec.runtime) return;
    shared.prepare(this.spec, this.spec.timeouts).catch(() => {
      // The click that follows reports the failure with the widget's own message.
    });
  }

  async start({ play }) {
    if (!this.spec.runtime) {
      this.setState("error", "runtime");
      this.say("This build has no Python runtime; demos cannot run here.");
      return;
    }
    const generation = ++this.generation;
    this.playing = false;
    this.setState("loading");
    this.say(shared.booted ? "Starting the demo…" : `Downloading the Python runtime (${formatMB(this.spec.runtime.bytes)})…`);
    try {
      await shared.prepare(this.spec, this.spec.timeouts);
      if (generation !== this.generation) return;
      this.drop();
      const run = ++runs;
      const reply = await shared.request(
        RequestType.START,
        { run, demo: this.demo.name, scenario: this.scenario, params: this.params, seed: this.seed },
        this.spec.timeouts.step,
        this,
      );
      if (generation !== this.generation) {
        this.drop(run); // stopped or restarted while it started: nobody will use it
        return;
      }
      this.run = run;
      this.clearOutput();
      this.render(reply.snapshot, reply.output);
      this.enableActions(true);
      if (play) this.play();
      else {
        this.setState("paused");
        this.say(`Ready at step 0. ${reply.snapshot.status}`);
      }
    } catch (error) {
      if (generation === this.generation) this.fail(error);
    }
  }

  play() {
    this.playing = true;
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
      if (count > 0) {
        this.pendingSteps -= count;
        try {
          const reply = await shared.request(RequestType.STEP, { run: this.run, count }, this.spec.timeouts.step, this);
          if (generation !== this.generation) return;
          this.render(reply.snapshot, reply.output, false);
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
    if (this.run === null) {
      await this.start({ play: false });
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
    if (this.run === null && this.root.dataset.state !== "error") return;
    await this.start({ play: false });
  }

  stop() {
    this.generation += 1;
    this.playing = false;
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
    if (this.run === null) {
      await this.start({ play: false });
      if (this.run === null) return;
    }
    const generation = this.generation;
    try {
      const reply = await shared.request(RequestType.ACT, { run: this.run, action: name, arg }, this.spec.timeouts.step, this);
      if (generation !== this.generation) return;
      this.render(reply.snapshot, reply.output);
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

  render(snapshot, output, force = true) {
    this.lastSnapshot = snapshot;
    if (snapshot.svg) this.frame.innerHTML = snapshot.svg;
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

  // --- permalinks -------------------------------------------------------------

  hashFor() {
    const query = new URLSearchParams({ demo: this.demo.name, scenario: this.scenario, seed: String(this.seed) });
    for (const [name, value] of Object.entries(this.params)) query.set(`p.${name}`, String(value));
    return `#${query.toString()}`;
  }

  restoreFromHash() {
    if (!location.hash.startsWith("#demo=")) return;
    const query = new URLSearchParams(location.hash.slice(1));
    if (query.get("demo") !== this.demo.name || this.root.dataset.restored) return;
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
    this.root.scrollIntoView();
  }

  async copyLink() {
    const url = `${location.href.split("#")[0]}${this.hashFor()}`;
    history.replaceState(history.state, "", url);
    try {
      await navigator.clipboard.writeText(url);
      this.say("Link to this setup copied.");
    } catch {
      this.say("Link to this setup is now in the address bar.");
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

// Material re-renders the page on instant navigation and announces it on document$.
if (window.document$) window.document$.subscribe(mountAll);
else mountAll();
