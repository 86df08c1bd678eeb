// The demo worker: one module Web Worker per visit. It loads Pyodide once, installs
// demo wheels, and runs demos for every widget through demokit.worker. The messages are
// defined in messages.js: a runtime file that failed to load adds `runtime: {file,
// cause}` to an error reply, and Notice.COMPUTING says which request Python is busy
// with (the page stops the worker only to end its own stuck request).

import { COMPUTING, Notice, Reply, RequestType } from "./messages.js";

const OUTPUT_MAX_LINES = 200;
const OUTPUT_MAX_CHARS = 20000;
const JAVASCRIPT = /^(text|application)\/(x-)?(javascript|ecmascript)$/;

let pyodide = null;
let booting = null;
let bridge = null;
const installed = new Set();
const output = { lines: [], chars: 0, dropped: 0 };

// Attached before any await, so no early message is lost.
self.addEventListener("message", (event) => {
  handle(event.data);
});

/** A runtime file that did not arrive intact: which file, and why. */
class Failure extends Error {
  constructor(file, cause) {
    super(`${file}: ${cause}`);
    this.file = file;
    this.cause = cause;
  }
}

function capture(line) {
  if (output.lines.length >= OUTPUT_MAX_LINES || output.chars + line.length > OUTPUT_MAX_CHARS) {
    output.dropped += 1;
    return;
  }
  output.lines.push(line);
  output.chars += line.length;
}

function takeOutput() {
  const taken = { lines: output.lines, dropped: output.dropped };
  output.lines = [];
  output.chars = 0;
  output.dropped = 0;
  return taken;
}

// --- downloads ----------------------------------------------------------------------
// loadPyodide hangs instead of rejecting when the .wasm is missing, cut off or has the
// wrong MIME type, and only logs a missing standard library. So every runtime file goes
// through `download`, which fails at once with the file and the cause.

const nativeFetch = self.fetch.bind(self);
let watch = null; // {base, cache, report} while a boot is under way

function fileOf(url) {
  return decodeURIComponent(new URL(url).pathname.split("/").pop());
}

function size(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

function typeProblem(file, response) {
  const type = (response.headers.get("content-type") || "").split(";")[0].trim().toLowerCase();
  const shown = type || "no MIME type";
  if (file.endsWith(".wasm") && type !== "application/wasm")
    return `served as ${shown}; WebAssembly needs application/wasm`;
  if (/\.m?js$/.test(file) && !JAVASCRIPT.test(type))
    return `served as ${shown}; a JavaScript module needs text/javascript`;
  return null;
}

/** A copy of `response` whose body reports a download cut off midway. */
function watched(response, file, report) {
  if (!response.body) return response;
  const length = response.headers.get("content-encoding") ? 0 : Number(response.headers.get("content-length")) || 0;
  const of = length ? ` of ${size(length)}` : "";
  const reader = response.body.getReader();
  let received = 0;
  const body = new ReadableStream({
    async pull(controller) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch {
        controller.error(report(new Failure(file, `the download was cut off after ${size(received)}${of}`)));
        return;
      }
      if (chunk.done) {
        if (received < length)
          controller.error(report(new Failure(file, `the download was cut off after ${size(received)}${of}`)));
        else controller.close();
        return;
      }
      received += chunk.value.byteLength;
      controller.enqueue(chunk.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** Fetch a runtime file, failing with a Failure (also passed to `report`) on any fault. */
async function download(url, init = {}, report = (failure) => failure) {
  const file = fileOf(url);
  let response;
  try {
    response = await nativeFetch(url, init);
  } catch {
    throw report(new Failure(file, "the download failed (no connection, or it was aborted)"));
  }
  if (!response.ok) {
    throw report(new Failure(file, `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`));
  }
  const problem = typeProblem(file, response);
  if (problem) {
    response.body?.cancel().catch(() => {});
    throw report(new Failure(file, problem));
  }
  return watched(response, file, report);
}

// Pyodide calls the global fetch for the .wasm, the lock file and the standard library.
self.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input), self.location.href).href;
  if (!watch || !url.startsWith(watch.base) || input instanceof Request) return nativeFetch(input, init);
  return download(url, { ...init, cache: watch.cache }, watch.report);
};

/** Why importing `url` failed: the browser only says "failed to fetch", so ask again. */
async function whyNotImported(url, error) {
  try {
    const response = await download(url, { cache: "no-store" });
    await response.body?.cancel();
  } catch (failure) {
    if (failure instanceof Failure) return failure;
  }
  return new Failure(fileOf(url), `could not be loaded as a module (${error?.message || error})`);
}

// --- requests -----------------------------------------------------------------------

async function boot({ runtime, fresh }) {
  if (!booting) {
    booting = (async () => {
      let first = null;
      let failed;
      const failure = new Promise((_, reject) => {
        failed = reject;
      });
      failure.catch(() => {});
      const report = (found) => {
        first = first || found;
        failed(first);
        return found;
      };
      // After a failed boot the HTTP cache may hold the bad answer: go to the server.
      const cache = fresh ? "reload" : undefined;
      watch = { base: runtime.url, cache, report };
      const loader = new URL("pyodide.mjs", runtime.url).href;
      const asm = new URL("pyodide.asm.mjs", runtime.url).href;
      self.postMessage({ type: Notice.PROGRESS, stage: "Downloading the Python runtime…" });
      try {
        if (fresh) {
          // Refreshes the HTTP cache entries that the module imports below read.
          await Promise.all([loader, asm].map(async (url) => (await download(url, { cache }, report)).arrayBuffer()));
        }
        let module;
        try {
          module = await Promise.race([import(loader), failure]);
        } catch (error) {
          throw first || (await whyNotImported(loader, error));
        }
        try {
          pyodide = await Promise.race([
            module.loadPyodide({ indexURL: runtime.url, stdout: capture, stderr: capture }),
            failure,
          ]);
        } catch (error) {
          if (first) throw first;
          if (String(error?.message).includes(asm)) throw await whyNotImported(asm, error);
          throw error;
        }
        if (first) throw first; // a failure Pyodide only logged, such as the stdlib
      } catch (error) {
        throw first || error; // a body cut off may surface as the browser's own error
      } finally {
        watch = null;
      }
      self.postMessage({ type: Notice.PROGRESS, stage: "Starting Python…" });
    })();
    booting.catch(() => {
      booting = null;
    });
  }
  await booting;
  return { version: pyodide.version };
}

async function install({ wheels }) {
  for (const url of wheels) {
    if (installed.has(url)) continue;
    self.postMessage({ type: Notice.PROGRESS, stage: "Installing the demo…" });
    let cut = null;
    const response = await download(url, {}, (failure) => (cut = failure));
    let data;
    try {
      data = await response.arrayBuffer();
    } catch (error) {
      throw cut || new Failure(fileOf(url), `the download failed (${error?.message || error})`);
    }
    try {
      pyodide.unpackArchive(data, "wheel");
    } catch (error) {
      throw new Failure(fileOf(url), `is not a readable wheel (${String(error?.message || error).trim().split("\n").pop()})`);
    }
    installed.add(url);
  }
  bridge = bridge || pyodide.pyimport("demokit.worker");
  return {};
}

function snapshot(json) {
  return { snapshot: JSON.parse(json), output: takeOutput() };
}

const handlers = {
  [RequestType.BOOT]: boot,
  [RequestType.INSTALL]: install,
  [RequestType.START]: ({ run, demo, scenario, params, seed, inputs = [], step = 0 }) =>
    snapshot(bridge.start(run, demo, scenario, JSON.stringify(params), seed, JSON.stringify(inputs), step)),
  [RequestType.STEP]: ({ run, count, fork = false }) => snapshot(bridge.step(run, count, fork)),
  [RequestType.SEEK]: ({ run, step }) => snapshot(bridge.seek(run, step)),
  [RequestType.SERIES]: ({ run, first }) => ({ ...JSON.parse(bridge.series(run, first)), output: takeOutput() }),
  [RequestType.ACT]: ({ run, action, arg }) => snapshot(bridge.act(run, action, arg ?? null)),
  [RequestType.SET]: ({ run, name, value }) => snapshot(bridge.set_param(run, name, JSON.stringify(value))),
  [RequestType.DROP]: ({ run }) => {
    bridge?.drop(run);
    return {};
  },
  [RequestType.RUNS]: () => ({ runs: bridge ? bridge.count() : 0 }),
};

async function handle(message) {
  const { id, type } = message;
  try {
    const handler = handlers[type];
    if (!handler) throw new Error(`unknown request type ${type}`);
    if (COMPUTING.has(type)) self.postMessage({ type: Notice.COMPUTING, id });
    const result = await handler(message);
    self.postMessage({ id, type: Reply.OK, ...result });
  } catch (error) {
    // A Python exception arrives as a PythonError whose message is the traceback.
    const text = String((error && error.message) || error);
    const lines = text.trim().split("\n");
    const runtime =
      error instanceof Failure
        ? { file: error.file, cause: error.cause }
        : type === RequestType.BOOT || type === RequestType.INSTALL
          ? { file: null, cause: lines[lines.length - 1].slice(0, 300) }
          : undefined;
    self.postMessage({
      id,
      type: Reply.ERROR,
      message: lines[lines.length - 1].slice(0, 300),
      traceback: runtime ? undefined : text.slice(-OUTPUT_MAX_CHARS),
      runtime,
      output: takeOutput(),
    });
  }
}
