// Runs tests/demos/contract_drive.py under Pyodide in Node (no browser) and prints its
// digests as JSON, so test_contract.py can compare them with CPython's.
//
// Usage: node contract_pyodide.mjs <pyodide folder> <repository root> <demos folder> <demo>...
// The kit, the demos and the driver are copied into Pyodide's file system as they are.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const [pyodideDir, root, demosDir, ...names] = process.argv.slice(2);
const { loadPyodide } = await import(join(pyodideDir, "pyodide.mjs"));
const pyodide = await loadPyodide({ indexURL: pyodideDir + "/", stdout: () => {}, stderr: () => {} });

const target = "/home/pyodide/contract";

function pythonFiles(folder) {
  const found = [];
  for (const entry of readdirSync(folder).sort()) {
    const path = join(folder, entry);
    if (entry === "__pycache__") continue;
    if (statSync(path).isDirectory()) found.push(...pythonFiles(path));
    else if (entry.endsWith(".py")) found.push(path);
  }
  return found;
}

function copy(path, base = root, under = "") {
  const inside = join(target, under, relative(base, path));
  pyodide.FS.mkdirTree(inside.slice(0, inside.lastIndexOf("/")));
  pyodide.FS.writeFile(inside, readFileSync(path));
}

for (const path of pythonFiles(join(root, "demokit"))) copy(path);
for (const name of names) {
  for (const path of pythonFiles(join(demosDir, name))) copy(path, demosDir, "demos");
}
copy(join(root, "tests", "demos", "contract_drive.py"));
pyodide.FS.mkdirTree(join(target, "demos"));

const started = Date.now();
const result = pyodide.runPython(`
import sys, json
sys.path[:0] = [${JSON.stringify(target)}, ${JSON.stringify(join(target, "tests", "demos"))}]
import importlib, contract_drive
names = ${JSON.stringify(names)}
json.dumps(contract_drive.digests([importlib.import_module("demos." + n).DEMO for n in names]), sort_keys=True)
`);
process.stderr.write(`pyodide ${pyodide.version}: digests in ${Date.now() - started} ms\n`);
process.stdout.write(result + "\n");
