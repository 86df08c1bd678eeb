// The page's side of the worker protocol: one worker for the whole visit, requests
// with ids and deadlines, and a clean replacement when a worker is stopped or stuck.

export class WorkerGone extends Error {}
export class Deadline extends Error {}

export class DemoWorker {
  constructor() {
    this.worker = null;
    this.url = null;
    this.nextId = 1;
    this.pending = new Map();
    this.booted = null;
    this.installs = new Map(); // wheel URL -> promise of its installation
    this.listeners = new Set();
    this.generation = 0;
  }

  /** Start the worker if none runs; never called before the reader shows intent. */
  ensure(url) {
    if (this.worker) return;
    this.url = url;
    this.generation += 1;
    const worker = new Worker(url, { type: "module" });
    worker.addEventListener("message", (event) => this.receive(event.data));
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      this.fail(new WorkerGone(`the demo worker failed to start (${event.message || "script error"})`));
    });
    this.worker = worker;
  }

  receive(message) {
    if (message.id === undefined) {
      for (const listener of this.listeners) listener(message);
      return;
    }
    const entry = this.pending.get(message.id);
    if (!entry) return;
    this.pending.delete(message.id);
    clearTimeout(entry.timer);
    if (message.type === "ok") entry.resolve(message);
    else {
      const error = new Error(message.message);
      error.traceback = message.traceback;
      error.output = message.output;
      entry.reject(error);
    }
  }

  /** Send a request; if no answer comes within `timeout` ms the worker is replaced. */
  request(type, payload, timeout) {
    if (!this.worker) return Promise.reject(new WorkerGone("no worker"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Deadline(`${type} took longer than ${Math.round(timeout / 100) / 10} s`));
        this.terminate(new WorkerGone("the demo worker was restarted after a deadline"));
      }, timeout);
      this.pending.set(id, { resolve, reject, timer, type, started: performance.now() });
      this.worker.postMessage({ id, type, ...payload });
    });
  }

  /** The oldest unanswered request's age in ms (0 when idle). */
  busyFor() {
    let oldest = 0;
    const now = performance.now();
    for (const entry of this.pending.values()) oldest = Math.max(oldest, now - entry.started);
    return oldest;
  }

  fail(error) {
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.reject(error);
    }
    this.pending.clear();
  }

  /** Stop the worker at once (a stuck step cannot be interrupted any other way). */
  terminate(reason = new WorkerGone("the demo worker was stopped")) {
    if (!this.worker) return;
    this.worker.terminate();
    this.worker = null;
    this.booted = null;
    this.installs = new Map();
    this.fail(reason);
    for (const listener of this.listeners) listener({ type: "terminated", reason: reason.message });
  }

  /** Boot Pyodide (once per worker) and install the given wheels (once each). */
  async prepare(spec, timeouts) {
    this.ensure(spec.worker);
    if (!this.booted) {
      this.booted = this.request("boot", { runtime: { url: spec.runtime.url } }, timeouts.boot);
      this.booted.catch(() => {
        this.booted = null;
      });
    }
    await this.booted;
    const missing = spec.wheels.filter((url) => !this.installs.has(url));
    if (missing.length) {
      const installing = this.request("install", { wheels: missing }, timeouts.boot);
      for (const url of missing) this.installs.set(url, installing);
      installing.catch(() => {
        for (const url of missing) this.installs.delete(url);
      });
    }
    await Promise.all(spec.wheels.map((url) => this.installs.get(url)));
  }
}
