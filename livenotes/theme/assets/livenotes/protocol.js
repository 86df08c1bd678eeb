// The page's side of the worker protocol: one worker for the whole visit, requests
// with ids, owners and deadlines, and a clean replacement when a worker is stopped or
// stuck.

/** The worker ended. `culprit` is the widget whose request made it end, if any. */
import { Notice, Reply, RequestType } from "./messages.js";

export class WorkerGone extends Error {
  constructor(message, culprit = null) {
    super(message);
    this.culprit = culprit;
  }
}
export class Deadline extends Error {}

/** A file of the runtime or of a demo did not load; `file` and `cause` say which and why. */
export class RuntimeFailure extends Error {
  constructor(file, cause) {
    super(file ? `${file}: ${cause}` : cause);
    this.file = file;
    this.cause = cause;
  }
}

/** Why the worker script at `url` would not start: its HTTP status or MIME type. */
async function whyNoWorker(url, event) {
  const file = new URL(url).pathname.split("/").pop();
  try {
    const response = await fetch(url, { cache: "no-store" });
    response.body?.cancel().catch(() => {});
    if (!response.ok) return new RuntimeFailure(file, `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`);
    const type = (response.headers.get("content-type") || "").split(";")[0].trim().toLowerCase();
    if (!/^(text|application)\/(x-)?(javascript|ecmascript)$/.test(type))
      return new RuntimeFailure(file, `served as ${type || "no MIME type"}; a JavaScript module needs text/javascript`);
  } catch {
    return new RuntimeFailure(file, "the download failed (no connection, or it was aborted)");
  }
  return new RuntimeFailure(file, `the demo worker failed to start (${event.message || "script error"})`);
}

export class DemoWorker {
  constructor() {
    this.worker = null;
    this.url = null;
    this.nextId = 1;
    this.pending = new Map();
    this.computing = null; // id of the request Python is running right now
    this.booted = null;
    this.bootFailed = false;
    this.installs = new Map(); // wheel URL -> promise of its installation
    this.listeners = new Set();
    this.settling = null; // a Stop waiting to see whether it must end the worker
    this.generation = 0;
  }

  /** Start the worker if none runs; never called before the reader shows intent. */
  ensure(url) {
    if (this.worker) return;
    this.url = url;
    this.generation += 1;
    const worker = new Worker(url, { type: "module" });
    let heard = false;
    worker.addEventListener("message", (event) => {
      heard = true;
      this.receive(event.data);
    });
    worker.addEventListener("error", async (event) => {
      event.preventDefault();
      if (heard) {
        this.fail(new WorkerGone(`the demo worker failed (${event.message || "script error"})`));
        return;
      }
      // The script itself did not load: say why, and let the retry start a new worker.
      const failure = await whyNoWorker(url, event);
      if (this.worker === worker) this.terminate(failure, { tell: false });
    });
    this.worker = worker;
  }

  receive(message) {
    if (message.type === Notice.COMPUTING) {
      this.computing = message.id;
      for (const waiter of this.pending.get(message.id)?.waiters ?? []) waiter(Notice.COMPUTING);
      return;
    }
    if (message.id === undefined) {
      for (const listener of this.listeners) listener(message);
      return;
    }
    if (this.computing === message.id) this.computing = null;
    const entry = this.pending.get(message.id);
    if (!entry) return;
    this.pending.delete(message.id);
    clearTimeout(entry.timer);
    for (const waiter of entry.waiters) waiter(true);
    if (message.type === Reply.OK) entry.resolve(message);
    else {
      const error = message.runtime
        ? new RuntimeFailure(message.runtime.file, message.runtime.cause)
        : new Error(message.message);
      error.traceback = message.traceback;
      error.output = message.output;
      entry.reject(error);
    }
  }

  /** Send a request for `owner` (a widget, or null when shared); if no answer comes
   * within `timeout` ms the worker is replaced. */
  request(type, payload, timeout, owner = null) {
    if (!this.worker) return Promise.reject(new WorkerGone("no worker"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        for (const waiter of entry.waiters) waiter(false);
        entry.waiters = [];
        reject(new Deadline(`${type} took longer than ${Math.round(timeout / 100) / 10} s`));
        const why = owner ? "another demo on this page overran its deadline" : `the runtime's ${type} overran its deadline`;
        this.terminate(new WorkerGone(`${why}, which restarts the Python runtime`, owner));
      }, timeout);
      const entry = { resolve, reject, timer, type, owner, waiters: [] };
      this.pending.set(id, entry);
      this.worker.postMessage({ id, type, ...payload });
    });
  }

  /** Resolves when request `id` is answered (true), fails (false), starts running in
   * Python ("computing"), or `ms` pass ("waiting"). */
  news(id, ms = Infinity) {
    const entry = this.pending.get(id);
    if (!entry) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = ms === Infinity ? null : setTimeout(() => resolve("waiting"), ms);
      entry.waiters.push((what) => {
        clearTimeout(timer);
        resolve(what);
      });
    });
  }

  /** `owner` is done with its requests (a Stop). The worker ends only if one of them
   * runs in Python and does not answer within `grace` ms: a stuck step cannot be
   * interrupted any other way. Requests of other widgets are left alone, and the next
   * Run waits for the decision, so it never lands in a worker about to end. */
  release(owner, grace, reason) {
    const mine = [...this.pending].filter(([, entry]) => entry.owner === owner).map(([id]) => id);
    if (!mine.length) return;
    const settling = (async () => {
      for (const id of mine) {
        if (this.computing !== id && (await this.news(id)) !== Notice.COMPUTING) continue;
        if ((await this.news(id, grace)) === "waiting") {
          this.terminate(reason);
          return;
        }
      }
    })().finally(() => {
      if (this.settling === settling) this.settling = null;
    });
    this.settling = settling;
  }

  /** Ask the worker how many runs it holds (tests read it; at most one per widget). */
  async runs() {
    return (await this.request(RequestType.RUNS, {}, 5000)).runs;
  }

  fail(error) {
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      for (const waiter of entry.waiters) waiter(false);
      entry.reject(error);
    }
    this.pending.clear();
  }

  /** Stop the worker at once (a stuck step cannot be interrupted any other way). Unless
   * `tell` is false, every widget hears of it, the culprit included. */
  terminate(reason = new WorkerGone("the demo worker was stopped"), { tell = true } = {}) {
    if (!this.worker) return;
    this.worker.terminate();
    this.worker = null;
    this.booted = null;
    this.computing = null;
    this.installs = new Map();
    this.fail(reason);
    if (!tell) return;
    const message = { type: Notice.TERMINATED, reason: reason.message, culprit: reason.culprit };
    for (const listener of this.listeners) listener(message);
  }

  /** Boot Pyodide (once per worker) and install the given wheels (once each). */
  async prepare(spec, timeouts) {
    if (this.settling) await this.settling;
    this.ensure(spec.worker);
    if (!this.booted) {
      const booted = this.request(RequestType.BOOT, { runtime: { url: spec.runtime.url }, fresh: this.bootFailed }, timeouts.boot);
      this.booted = booted;
      booted.then(
        () => {
          this.bootFailed = false;
        },
        (error) => {
          this.bootFailed = true;
          if (this.booted !== booted) return;
          this.booted = null;
          // A worker whose boot failed cannot boot again (the failed module import
          // stays in its module map): the retry starts a fresh one. No run lives in it.
          if (error instanceof RuntimeFailure) this.terminate(error, { tell: false });
        },
      );
    }
    await this.booted;
    const missing = spec.wheels.filter((url) => !this.installs.has(url));
    if (missing.length) {
      const installing = this.request(RequestType.INSTALL, { wheels: missing }, timeouts.boot);
      for (const url of missing) this.installs.set(url, installing);
      installing.catch(() => {
        for (const url of missing) if (this.installs.get(url) === installing) this.installs.delete(url);
      });
    }
    await Promise.all(spec.wheels.map((url) => this.installs.get(url)));
  }
}
