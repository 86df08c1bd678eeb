// The demo worker: one module Web Worker per visit. It loads Pyodide once, installs
// demo wheels, and runs demos for every widget through demokit.worker.
// Messages are {id, type, ...}; every request gets exactly one reply with its id:
// {id, type: "ok", ...} or {id, type: "error", message, traceback}. Progress and
// output go out as {type: "progress"} without an id.

const OUTPUT_MAX_LINES = 200;
const OUTPUT_MAX_CHARS = 20000;

let pyodide = null;
let booting = null;
let bridge = null;
const installed = new Set();
const output = { lines: [], chars: 0, dropped: 0 };

// Attached before any await, so no early message is lost.
self.addEventListener("message", (event) => {
  handle(event.data);
});

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

async function boot({ runtime }) {
  if (!booting) {
    booting = (async () => {
      self.postMessage({ type: "progress", stage: "Downloading the Python runtime…" });
      const { loadPyodide } = await import(new URL("pyodide.mjs", runtime.url).href);
      pyodide = await loadPyodide({
        indexURL: runtime.url,
        stdout: capture,
        stderr: capture,
      });
      self.postMessage({ type: "progress", stage: "Starting Python…" });
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
    self.postMessage({ type: "progress", stage: "Installing the demo…" });
    const response = await fetch(url);
    if (!response.ok) throw new Error(`could not download ${url} (HTTP ${response.status})`);
    pyodide.unpackArchive(await response.arrayBuffer(), "wheel");
    installed.add(url);
  }
  bridge = bridge || pyodide.pyimport("demokit.worker");
  return {};
}

function snapshot(json) {
  return { snapshot: JSON.parse(json), output: takeOutput() };
}

const handlers = {
  boot,
  install,
  start: ({ run, demo, scenario, params, seed }) =>
    snapshot(bridge.start(run, demo, scenario, JSON.stringify(params), seed)),
  step: ({ run, count }) => snapshot(bridge.step(run, count)),
  act: ({ run, action, arg }) => snapshot(bridge.act(run, action, arg ?? null)),
  set: ({ run, name, value }) => snapshot(bridge.set_param(run, name, JSON.stringify(value))),
  drop: ({ run }) => {
    bridge?.drop(run);
    return {};
  },
};

async function handle(message) {
  const { id, type } = message;
  try {
    const handler = handlers[type];
    if (!handler) throw new Error(`unknown request type ${type}`);
    const result = await handler(message);
    self.postMessage({ id, type: "ok", ...result });
  } catch (error) {
    // A Python exception arrives as a PythonError whose message is the traceback.
    const text = String((error && error.message) || error);
    const lines = text.trim().split("\n");
    self.postMessage({
      id,
      type: "error",
      message: lines[lines.length - 1].slice(0, 300),
      traceback: text.slice(-OUTPUT_MAX_CHARS),
      output: takeOutput(),
    });
  }
}
