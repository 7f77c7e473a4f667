// consentgate scanner: runs in every frame before the page's own scripts (Playwright init script).
// It reports who writes cookies and storage, and who points images, frames and scripts at a URL,
// with the script URLs on the JavaScript stack at that moment. Chromium's own request initiator
// names the document, not the script, for an image whose src a script set; this fills that gap.
// Nothing is blocked or changed: every wrapped call goes through to the original.
(() => {
  const BINDING = "__consentgateScan";
  if (window.__consentgateInstrumented) return;
  Object.defineProperty(window, "__consentgateInstrumented", { value: true });
  const URL_IN_STACK = /(https?:\/\/[^\s()]+?):\d+:\d+/g;

  const stack = () => {
    const saved = Error.stackTraceLimit;
    Error.stackTraceLimit = 30;
    const text = String(new Error().stack || "");
    Error.stackTraceLimit = saved;
    const urls = [];
    for (const m of text.matchAll(URL_IN_STACK)) urls.push(m[1]);
    return urls;
  };
  const send = (record) => {
    record.href = String(location.href);
    try {
      const fn = window[BINDING];
      if (typeof fn === "function") fn(record);
    } catch (e) { /* the page replaced or froze the binding: lose this record, never break the page */ }
  };

  // Short timers still to fire: the crawler does not call a page settled while one is pending (a
  // tag that writes its cookie 1 s after load is common). Longer timers are not counted.
  const pending = new Set();
  const nativeSetTimeout = window.setTimeout;
  const nativeClearTimeout = window.clearTimeout;
  window.setTimeout = function (handler, delay, ...rest) {
    if (typeof handler !== "function" || !(Number(delay) <= 3000)) {
      return nativeSetTimeout.call(window, handler, delay, ...rest);
    }
    let id;
    const run = function () { pending.delete(id); return handler.apply(this, arguments); };
    id = nativeSetTimeout.call(window, run, delay, ...rest);
    pending.add(id);
    return id;
  };
  window.clearTimeout = function (id) { pending.delete(id); return nativeClearTimeout.call(window, id); };
  Object.defineProperty(window, "__consentgatePendingTimers", { get: () => pending.size });

  // document.cookie = "…"
  const cookieDesc = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  if (cookieDesc && cookieDesc.set) {
    Object.defineProperty(Document.prototype, "cookie", {
      configurable: true,
      enumerable: cookieDesc.enumerable,
      get() { return cookieDesc.get.call(this); },
      set(value) {
        send({ t: "cookie", line: String(value).slice(0, 4096), stack: stack() });
        return cookieDesc.set.call(this, value);
      },
    });
  }

  // cookieStore.set(name, value) / cookieStore.set({name, …})
  if (window.CookieStore && CookieStore.prototype.set) {
    const original = CookieStore.prototype.set;
    CookieStore.prototype.set = function (a, b) {
      const opts = typeof a === "object" && a !== null ? a : { name: a, value: b };
      let line = `${opts.name}=`;
      if (opts.domain) line += `; domain=${opts.domain}`;
      if (opts.path) line += `; path=${opts.path}`;
      if (opts.expires) line += `; expires=${new Date(opts.expires).toUTCString()}`;
      send({ t: "cookie", line, stack: stack() });
      return original.apply(this, arguments);
    };
  }

  // localStorage / sessionStorage
  const kindOf = (store) => {
    try { if (store === window.localStorage) return "localStorage"; } catch (e) { /* sandboxed */ }
    try { if (store === window.sessionStorage) return "sessionStorage"; } catch (e) { /* sandboxed */ }
    return "storage";
  };
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    send({ t: "storage", kind: kindOf(this), key: String(key).slice(0, 512), stack: stack() });
    return setItem.apply(this, arguments);
  };

  // indexedDB.open(name): the database name is the key (session-replay vendors buffer recordings there)
  if (window.IDBFactory && IDBFactory.prototype.open) {
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (name) {
      send({ t: "storage", kind: "indexedDB", key: String(name).slice(0, 512), stack: stack() });
      return open.apply(this, arguments);
    };
  }

  // Resources pointed at by scripts: img/iframe/script/embed src, whether by property or attribute.
  const absolute = (value) => {
    try { return new URL(String(value), document.baseURI).href; } catch (e) { return null; }
  };
  const noteResource = (value) => {
    const url = absolute(value);
    if (url && /^https?:/.test(url)) send({ t: "resource", url, stack: stack() });
  };
  for (const ctor of [window.HTMLImageElement, window.HTMLIFrameElement, window.HTMLScriptElement,
                      window.HTMLEmbedElement, window.HTMLSourceElement]) {
    if (!ctor) continue;
    const desc = Object.getOwnPropertyDescriptor(ctor.prototype, "src");
    if (!desc || !desc.set) continue;
    Object.defineProperty(ctor.prototype, "src", {
      configurable: true,
      enumerable: desc.enumerable,
      get() { return desc.get.call(this); },
      set(value) { noteResource(value); return desc.set.call(this, value); },
    });
  }
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (String(name).toLowerCase() === "src") noteResource(value);
    return setAttribute.apply(this, arguments);
  };
})();
