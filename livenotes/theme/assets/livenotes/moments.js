// Links to an exact moment of a demo, written once for Copy link, for links opened from
// the address bar and for the note's own moment links (the build writes the same format:
// livenotes/moments.py). A link is the embed's id, then a compact query:
//
//   #demo-skinny?v=1&s=race&seed=1&t=120&p=loss:0.1&i=12a:stop:london,40p:loss:0.2
//
// v: the demo's version; s: scenario; seed; t: the step shown; p: parameters that differ
// from the scenario's, name:value; i: the reader's inputs, oldest first, each
// <step><kind>:<name>[:<value>] with kind a (action), p (live parameter), c (action
// scheduled at a time, value time[:arg]); an upper-case kind marks an input the demo
// refused (it is refused again on replay). Every name and value is percent-encoded, so
// "&", ",", ":" and "=" only ever separate.

export const MAX_LINK_STEP = 100000;
const enc = encodeURIComponent;

export class LinkError extends Error {}

function split(text, separator) {
  return text ? text.split(separator) : [];
}

function wholeNumber(text, low, high) {
  if (text === undefined || !/^\d+$/.test(text)) return null;
  const number = Number(text);
  return number >= low && number <= high ? number : null;
}

/** A parameter's value read back from link text; undefined when not allowed. */
export function paramValue(param, raw) {
  if (param.kind === "bool") return raw === "true" ? true : raw === "false" ? false : undefined;
  if (param.kind === "choice") return param.choices.some(([value]) => value === raw) ? raw : undefined;
  if (raw === "" || !Number.isFinite(Number(raw))) return undefined;
  const value = Number(raw);
  if (value < param.min || value > param.max) return undefined;
  if (param.kind === "int" && !Number.isInteger(value)) return undefined;
  return value;
}

function encodeInput([step, kind, name, value, raised]) {
  const parts = [`${step}${raised ? kind.toUpperCase() : kind}`, enc(name)];
  if (kind === "c") {
    parts.push(enc(String(value[0])));
    if (value[1] !== null && value[1] !== undefined) parts.push(enc(value[1]));
  } else if (value !== null && value !== undefined) parts.push(enc(String(value)));
  return parts.join(":");
}

/** The query part of a link to `moment` ({scenario, seed, step, params, inputs}). */
export function encodeMoment(demo, moment) {
  const scenario = demo.scenarios.find((s) => s.name === moment.scenario);
  const changed = Object.entries(moment.params)
    .filter(([name, value]) => scenario.params[name] !== value)
    .map(([name, value]) => `${enc(name)}:${enc(String(value))}`);
  const parts = [`v=${demo.version}`, `s=${enc(moment.scenario)}`, `seed=${moment.seed}`, `t=${moment.step}`];
  if (changed.length) parts.push(`p=${changed.join(",")}`);
  const inputs = moment.inputs.filter(([step]) => step <= moment.step);
  if (inputs.length) parts.push(`i=${inputs.map(encodeInput).join(",")}`);
  return parts.join("&");
}

function decodeInput(text, demo, last, step) {
  const [head, ...rest] = text.split(":").map(decodeURIComponent);
  const match = /^(\d+)([apcAPC])$/.exec(head || "");
  if (!match) throw new LinkError(`its input “${head}” is not one the widget writes`);
  const at = Number(match[1]);
  if (at < last || at > step) throw new LinkError("its inputs are out of order or after its step");
  const kind = match[2].toLowerCase();
  const raised = match[2] !== kind;
  const [name, value, arg] = rest;
  if (kind === "p") {
    const param = demo.params.find((p) => p.name === name);
    if (!param || !param.live) throw new LinkError(`it changes “${name}” during the run, which this demo does not allow`);
    const parsed = paramValue(param, value);
    if (parsed === undefined) throw new LinkError(`its value for ${param.label} is not allowed`);
    return [at, kind, name, parsed, raised];
  }
  if (!demo.actions.some((action) => action.name === name)) {
    throw new LinkError(`it uses an action this demo does not have (“${name}”)`);
  }
  if (kind === "c") {
    const time = Number(value);
    if (value === undefined || !Number.isFinite(time)) throw new LinkError("its scheduled action has no time");
    return [at, kind, name, [time, arg ?? null], raised];
  }
  return [at, kind, name, value ?? null, raised];
}

/** The moment a link's query names, checked against the demo's declaration; throws a
 * LinkError whose message says what is wrong, in words for the status line. */
export function decodeMoment(query, demo, seeds) {
  const fields = {};
  for (const pair of split(query, "&")) {
    const equals = pair.indexOf("=");
    if (equals < 1) throw new LinkError("it is not in the form the widget writes");
    fields[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  try {
    const version = wholeNumber(fields.v, 1, Number.MAX_SAFE_INTEGER);
    if (version === null) throw new LinkError("it names no version of the demo");
    if (version !== demo.version) {
      throw new LinkError(`it was made by version ${version} of this demo, and this is version ${demo.version}`);
    }
    const name = decodeURIComponent(fields.s ?? "");
    const scenario = demo.scenarios.find((s) => s.name === name);
    if (!scenario) throw new LinkError(`it names a scenario this demo does not have (“${name}”)`);
    const seed = wholeNumber(fields.seed, seeds[0], seeds[1]);
    if (seed === null) throw new LinkError(`its seed is not a whole number from ${seeds[0]} to ${seeds[1]}`);
    const step = wholeNumber(fields.t, 0, MAX_LINK_STEP);
    if (step === null) throw new LinkError(`its step is not a whole number from 0 to ${MAX_LINK_STEP}`);
    const params = { ...scenario.params };
    for (const item of split(fields.p, ",")) {
      const [key, raw] = item.split(":").map(decodeURIComponent);
      const param = demo.params.find((p) => p.name === key);
      if (!param) throw new LinkError(`it sets a parameter this demo does not have (“${key}”)`);
      const value = paramValue(param, raw ?? "");
      if (value === undefined) throw new LinkError(`its value for ${param.label} is not allowed`);
      params[key] = value;
    }
    const inputs = [];
    for (const item of split(fields.i, ",")) {
      const input = decodeInput(item, demo, inputs.length ? inputs[inputs.length - 1][0] : 0, step);
      inputs.push(input);
    }
    return { scenario: scenario.name, seed, step, params, inputs };
  } catch (error) {
    if (error instanceof URIError) throw new LinkError("it is garbled (a broken %-escape)");
    throw error;
  }
}

/** Splits a location hash into the embed id and the moment's query ("" for none). */
export function splitHash(hash) {
  const text = hash.startsWith("#") ? hash.slice(1) : hash;
  const mark = text.indexOf("?");
  return mark < 0 ? { id: text, query: null } : { id: text.slice(0, mark), query: text.slice(mark + 1) };
}
