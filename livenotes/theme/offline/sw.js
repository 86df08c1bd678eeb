// The site's service worker: every page a reader opened stays readable offline, with
// what it fetched (its stylesheets and scripts, the search index and sitemap, and the
// Python runtime and demo wheels once a demo ran). Nothing is fetched only to be kept:
// the offline page (shown for a page never opened here) is part of this script.
//
// The build (livenotes/offline.py) writes this file to the site root as sw.js, so its
// scope is the whole site, and fills in BUILD below: the build's content hash names
// the caches, so every deploy is a new worker that drops the last deploy's caches.
//
// Same-origin GETs are network first (online, a reader gets the deployed page and files);
// the pinned, hash-checked Pyodide runtime is cache first. With `enabled` false (the
// plugin's `offline: false`, and under `mkdocs serve`) this worker deletes its caches
// and unregisters itself instead.

const BUILD = null; // filled in by the build

const SCOPE = self.registration.scope;
const PREFIX = `livenotes ${SCOPE} `; // the scope too: sites under one origin share caches
const SITE = `${PREFIX}site ${BUILD.version}`;
const RUNTIME = `${PREFIX}runtime ${BUILD.runtime}`;
const CACHE_FIRST = BUILD.cacheFirst.map((path) => new URL(path, SCOPE).href);
const MATCH = { ignoreVary: true };

async function dropCaches(keep) {
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(PREFIX) && !keep.includes(name)).map((name) => caches.delete(name)));
}

self.addEventListener("install", (event) => {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      if (!BUILD.enabled) {
        await dropCaches([]);
        await self.registration.unregister();
        return;
      }
      await dropCaches([SITE, RUNTIME]);
      await self.clients.claim();
    })(),
  );
});

/** The URL a page is kept under: a query (a link to a demo's moment) is the same page. */
function pageKey(url) {
  const key = new URL(url);
  key.search = "";
  key.hash = "";
  return key.href;
}

function isPage(response) {
  return (response.headers.get("content-type") || "").startsWith("text/html");
}

function storable(response) {
  return (
    response.status === 200 &&
    response.type === "basic" &&
    !/no-store/i.test(response.headers.get("cache-control") || "")
  );
}

async function keep(name, request, response) {
  const cache = await caches.open(name);
  await cache.put(isPage(response) ? pageKey(request.url) : request, response);
}

async function cached(request) {
  const cache = await caches.open(SITE);
  const exact = await cache.match(request, MATCH);
  if (exact) return exact;
  const page = await cache.match(pageKey(request.url), MATCH);
  return page && isPage(page) ? page : undefined;
}

function offlinePage() {
  // The site's page (its look, its policy in a <meta>) with links from the site root.
  // Not 200: Material's instant navigation then loads the address in full.
  return new Response(BUILD.offline, {
    status: 503,
    statusText: "Offline",
    headers: { "Content-Type": "text/html; charset=utf-8" },
  });
}

// Online, the server's current copy: asked for with revalidation (a 304 when the
// browser's HTTP cache holds it), so that a deploy is never seen half, a new page with
// an old stylesheet the browser still thought fresh.
const REVALIDATE = new Set(["default", "force-cache"]);

async function networkFirst(event, request) {
  let response;
  try {
    response = await fetch(request, REVALIDATE.has(request.cache) ? { cache: "no-cache" } : {});
  } catch (error) {
    const copy = await cached(request);
    if (copy) return copy;
    if (request.mode === "navigate") return offlinePage();
    throw error;
  }
  if (storable(response)) event.waitUntil(keep(SITE, request, response.clone()).catch(() => {}));
  return response;
}

async function cacheFirst(event, request) {
  // A request that asks for the server (the demo worker retries a failed boot with
  // cache: "reload") goes there, and refreshes the copy.
  const fresh = ["reload", "no-cache", "no-store"].includes(request.cache);
  if (!fresh) {
    const copy = await caches.match(request, { cacheName: RUNTIME, ...MATCH });
    if (copy) return copy;
  }
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const copy = fresh && (await caches.match(request, { cacheName: RUNTIME, ...MATCH }));
    if (copy) return copy;
    throw error;
  }
  if (storable(response)) event.waitUntil(keep(RUNTIME, request, response.clone()).catch(() => {}));
  return response;
}

if (BUILD.enabled) {
  self.addEventListener("fetch", (event) => {
    const request = event.request;
    if (request.method !== "GET" || request.headers.has("range")) return;
    const url = request.url;
    if (!url.startsWith(SCOPE) || url === self.location.href) return;
    if (CACHE_FIRST.some((prefix) => url.startsWith(prefix))) event.respondWith(cacheFirst(event, request));
    else event.respondWith(networkFirst(event, request));
  });

  // A page that loaded before this worker controlled it (the first visit, or the first
  // after a deploy) sends what it fetched; the copies are asked of the server with
  // revalidation, so they come from the browser's HTTP cache when they are current.
  async function warm(urls) {
    const started = Date.now();
    const cache = await caches.open(SITE);
    let stored = 0;
    let bytes = 0;
    await Promise.all(
      [...new Set(urls.concat(BUILD.warm.map((path) => new URL(path, SCOPE).href)))]
        .filter((url) => typeof url === "string" && url.startsWith(SCOPE) && url !== self.location.href)
        .filter((url) => !CACHE_FIRST.some((prefix) => url.startsWith(prefix)))
        .map(async (url) => {
          if (await cached(new Request(url))) return;
          try {
            const response = await fetch(url, { cache: "no-cache" });
            if (!storable(response)) return;
            const body = await response.clone().blob();
            await cache.put(isPage(response) ? pageKey(url) : url, response);
            stored += 1;
            bytes += body.size;
          } catch {
            // Offline again, or the file is gone: it is kept when it is next fetched.
          }
        }),
    );
    return { stored, bytes, ms: Date.now() - started };
  }

  self.addEventListener("message", (event) => {
    const { data } = event;
    const reply = (value) => event.ports[0]?.postMessage(value);
    if (data?.type === "livenotes:warm" && Array.isArray(data.urls)) {
      event.waitUntil(warm(data.urls).then(reply));
    } else if (data?.type === "livenotes:version") {
      reply({ version: BUILD.version, runtime: BUILD.runtime, caches: [SITE, RUNTIME] });
    }
  });
}
