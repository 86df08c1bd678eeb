// The worker protocol, written once. The page's side (protocol.js, demos.js) and the
// worker (worker.js) both import these names, so a request type cannot be spelt two
// ways. Every request is {id, type, ...} and gets one reply with its id: {id, type:
// Reply.OK, ...} or {id, type: Reply.ERROR, message, traceback, runtime}; notices carry
// no id.

/** What the page asks the worker. */
export const RequestType = Object.freeze({
  BOOT: "boot", // load Pyodide: {runtime: {url}, fresh}
  INSTALL: "install", // install wheels: {wheels: [url, ...]}
  START: "start", // a fresh run for a widget, or a moment: {run, demo, scenario, params, seed, inputs, step}
  STEP: "step", // advance a run: {run, count, fork} (fork: drop the history after the step shown)
  SEEK: "seek", // show a step already reached: {run, step}
  SERIES: "series", // gather the run's metrics over time for a CSV, in pieces: {run, first}
  ACT: "act", // a reader's action: {run, action, arg}
  SET: "set", // change a parameter: {run, name, value}
  DROP: "drop", // forget a run: {run}
  RUNS: "runs", // how many runs the worker holds
});

/** Requests that run Python synchronously: while one runs, nothing else can. */
export const COMPUTING = Object.freeze(new Set([
  RequestType.START,
  RequestType.STEP,
  RequestType.SEEK,
  RequestType.SERIES,
  RequestType.ACT,
  RequestType.SET,
]));

/** What the worker answers with. */
export const Reply = Object.freeze({ OK: "ok", ERROR: "error" });

/** What the worker (or the page, about the worker) tells everyone, without an id. */
export const Notice = Object.freeze({
  PROGRESS: "progress", // {stage}: a step of loading the runtime
  COMPUTING: "computing", // {id}: Python is now busy with this request
  TERMINATED: "terminated", // {reason, culprit}: the worker was ended (page side only)
});
