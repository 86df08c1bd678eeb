// Registers the site's service worker (sw.js at the site root, scope: the whole site),
// so that pages a reader opened stay readable offline, and on the offline page lists
// the pages kept on this device. The plugin loads it on every page.
//
// Loaded as offline.js?off (under `mkdocs serve`, and with the plugin option
// `offline: false`) it registers nothing: if this browser has the worker from before,
// it has the browser fetch sw.js at once, which is then the kill switch (a worker that
// deletes its caches and unregisters itself).
//
// It runs once per full page load (Material's instant navigation keeps it), which is
// all a registration needs. Performance marks `livenotes:offline-*` time it
// (benchmarks/offline.py reads them).

const root = new URL("../../", import.meta.url);
const container = navigator.serviceWorker;
const off = new URL(import.meta.url).searchParams.has("off");

// Requests a script made may have been POSTs, or asked for something not to be kept;
// but for the site's static files (a demo's recording), the worker keeps those it sees,
// and the build names Material's own (the sitemap, the search index).
const SCRIPTED = new Set(["fetch", "xmlhttprequest", "beacon", "ping"]);
const assets = new URL("assets/", root).href;

/** What this page loaded before a worker controlled it: the page and its resources. */
function fetched() {
  const urls = new Set([location.href.split("#")[0]]);
  for (const entry of performance.getEntriesByType("resource")) {
    if (!SCRIPTED.has(entry.initiatorType) || entry.name.startsWith(assets)) urls.add(entry.name);
  }
  try {
    // Material's search worker script: a worker's own fetch is not listed above.
    const config = JSON.parse(document.getElementById("__config").textContent);
    if (config.search) urls.add(new URL(config.search, new URL(config.base, location.href)).href);
  } catch {
    // Not a Material page.
  }
  return [...urls].filter((url) => url.startsWith(root.href));
}

function warm() {
  const worker = container.controller;
  if (!worker) return;
  const channel = new MessageChannel();
  channel.port1.onmessage = ({ data }) => performance.mark("livenotes:offline-warmed", { detail: data });
  worker.postMessage({ type: "livenotes:warm", urls: fetched() }, [channel.port2]);
}

/** The offline page: say which address was asked for, and list the pages kept here. */
async function showKept(list) {
  const prefix = `livenotes ${root.href} site `;
  const name = (await caches.keys()).find((key) => key.startsWith(prefix));
  if (!name) return;
  const cache = await caches.open(name);
  const parser = new DOMParser();
  const suffix = ` - ${list.dataset.livenotesKept}`; // Material's "<page> - <site name>"
  const pages = [];
  for (const request of await cache.keys()) {
    const url = new URL(request.url);
    if (url.pathname.endsWith(".html") && !url.pathname.endsWith("/index.html")) continue; // offline.html, 404.html
    const response = await cache.match(request);
    if (!(response.headers.get("content-type") || "").startsWith("text/html")) continue;
    const head = (await response.text()).match(/<title>[^<]*<\/title>/);
    const title = head ? parser.parseFromString(head[0], "text/html").title : url.pathname;
    pages.push({ url: url.href, title: title.endsWith(suffix) ? title.slice(0, -suffix.length) : title });
  }
  if (!pages.length) return;
  pages.sort((a, b) => a.title.localeCompare(b.title));
  const items = list.querySelector("ul");
  for (const { url, title } of pages) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = url;
    link.textContent = title;
    item.append(link);
    items.append(item);
  }
  list.hidden = false;
}

/** Back online: reload the address asked for once it answers (the connection may take
 * a moment to carry requests again). */
async function reopen() {
  for (let wait = 250; wait <= 16000; wait *= 2) {
    try {
      if ((await fetch(location.href, { cache: "no-cache" })).ok) {
        location.reload();
        return;
      }
    } catch {
      // Not yet.
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

if (container && window.isSecureContext && off) {
  container.getRegistration(root.href).then((registration) => {
    if (registration?.scope === root.href) return registration.update();
  }).catch(() => {});
} else if (container && window.isSecureContext) {
  // The first visit, and the first page after a deploy, load before the (new) worker
  // controls them; it takes over when it activates and is then handed what they fetched.
  container.addEventListener("controllerchange", () => {
    performance.mark("livenotes:offline-controlled");
    warm();
  });
  const controlled = container.controller !== null;
  // Controlled from the start: mostly by the worker that answered every request of this
  // page and kept it. But after a deploy the browser's own update check can install the
  // new worker and hand it this page before this script ran (its controllerchange then
  // came before the listener above), and that worker has seen none of the page. Hand
  // the list over either way: the worker fetches only what it does not hold.
  if (controlled) warm();
  performance.mark("livenotes:offline-register");
  container
    .register(new URL("sw.js", root), { scope: root.href, updateViaCache: "none" })
    .then((registration) => {
      // Browsers check sw.js for a new deploy on a navigation only when it suits them
      // (Chromium waits for the worker to be idle): ask at once, so a new deploy's
      // worker takes over while this page is read. Unchanged, sw.js is a 304.
      if (controlled && navigator.onLine) registration.update().catch(() => {}); // offline after all
    }, (error) => console.warn(`Pages will not be kept for reading offline: ${error.message || error}`));
}

const asked = document.querySelector("[data-livenotes-offline-address]");
if (asked) {
  // The offline page has no navigation, so no drawer to open.
  document.querySelector('.md-header__button[for="__drawer"]')?.style.setProperty("display", "none");
  try {
    asked.textContent = decodeURI(location.pathname);
  } catch {
    asked.textContent = location.pathname;
  }
  window.addEventListener("online", reopen);
  const list = document.querySelector("[data-livenotes-kept]");
  if (list && "caches" in window) showKept(list).catch(() => {});
}
