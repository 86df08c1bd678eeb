// A recorded run, made by the build with CPython (livenotes/recordings.py, whose
// decode() is this algorithm in Python): frames every `stride` steps, the first SVG as
// tokens, each later one as edits to the previous tokens, and of the rest of a snapshot
// only what changed. Decoded once, on arrival; frames are then the very snapshots the
// live run gives at those steps.

const FORMAT = 1;
const FIELDS = [
  ["status", "s"],
  ["metrics", "m"],
  ["log", "l"],
  ["values", "v"],
];

export class Recording {
  constructor(data) {
    if (data.format !== FORMAT) throw new Error(`recording format ${data.format} is not ${FORMAT}`);
    this.data = data;
    this.stride = data.stride;
    this.at = data.at;
    this.done = data.done;
    this.end = data.at[data.at.length - 1];
    this.frames = []; // decoded on demand, in order: playing needs the first ones first
    this.tokens = [];
    this.current = {};
  }

  /** Decode frames up to index `last`. */
  decodeTo(last) {
    const { data } = this;
    for (let index = this.frames.length; index <= last; index += 1) {
      const frame = data.frames[index];
      if (frame.t) this.tokens = frame.t;
      else {
        const tokens = this.tokens.slice();
        for (let k = frame.d.length - 1; k >= 0; k -= 1) {
          const [from, to, inserted] = frame.d[k];
          tokens.splice(from, to - from, ...inserted);
        }
        this.tokens = tokens;
      }
      for (const [name, key] of FIELDS) if (key in frame) this.current[name] = frame[key];
      const snapshot = {
        svg: this.tokens.join(""),
        status: this.current.status,
        metrics: this.current.metrics,
        log: this.current.log,
        now: frame.n,
        steps: data.at[index],
        done: Boolean(frame.done),
      };
      if (this.current.values && this.current.values.length) snapshot.values = this.current.values;
      this.frames.push(snapshot);
    }
  }

  /** The frame shown at `step`: the last one recorded at or before it. */
  frameAt(step) {
    let low = 0;
    let high = this.at.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (this.at[middle] <= step) low = middle;
      else high = middle - 1;
    }
    this.decodeTo(low);
    return this.frames[low];
  }

  /** The run's marked moments up to `step`. */
  timeline(step) {
    return this.data.timeline.filter((moment) => moment.step <= step);
  }

  /** The metrics of the frames up to `step`, as CSV (like the worker's, at the
   * recording's steps). */
  csv(step, unit) {
    const columns = new Map();
    this.decodeTo(this.at.length - 1);
    const rows = this.frames.filter((frame) => frame.steps <= step);
    for (const frame of rows) for (const [name, , u] of frame.values || []) if (!columns.has(name)) columns.set(name, u);
    const quote = (text) => (/[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
    const number = (value) => (value === undefined ? "" : Number.isInteger(value) ? String(value) : String(value));
    const lines = [["step", unit ? `simulated time (${unit})` : "simulated time", ...[...columns].map(([n, u]) => (u ? `${n} (${u})` : n))].map(quote).join(",")];
    for (const frame of rows) {
      const values = new Map((frame.values || []).map(([name, value]) => [name, value]));
      lines.push([frame.steps, number(frame.now), ...[...columns.keys()].map((name) => number(values.get(name)))].join(","));
    }
    return `${lines.join("\n")}\n`;
  }
}

/** Fetches and decodes the recording at `url` (once per page: the promise is kept). */
const cache = new Map();
export function loadRecording(url) {
  if (!cache.has(url)) {
    const promise = fetch(url, { credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
        return response.json();
      })
      .then((data) => new Recording(data));
    promise.catch(() => cache.delete(url)); // a failed download is tried again next time
    cache.set(url, promise);
  }
  return cache.get(url);
}
