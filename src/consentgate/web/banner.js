/* consentgate banner — docs/web.md. Embed: <script src="https://HOST/banner.js" data-key="COLLECT_KEY"></script>
   One file, no dependencies, no inline code, no eval: it runs under a strict CSP that allows HOST for
   scripts, styles and requests. Text from the policy is only ever set as text, never parsed as HTML. */
((B) => {
  'use strict';
  const W = window, D = document, N = navigator, me = D.currentScript, ds = me.dataset;
  const base = me.src.replace(/[^/]*$/, ''), mk = D.createElement.bind(D);
  const TYPES = ['ad_storage', 'ad_user_data', 'ad_personalization', 'analytics_storage',
    'functionality_storage', 'personalization_storage', 'security_storage'];
  const ADS = TYPES.slice(0, 3), DAY = 864e5, dom = N.globalPrivacyControl === true;
  const reg = (ds.region || '').toUpperCase();
  let token = ds.subjectToken, cfg = null, P = {}, srv = null, vid = null, who = '', root = null, ret = null;
  let listeners = [], texts = {}, last = '', live = false, store = read(), queue = [], dirty = 0;
  // (no pending choice, or no storage)
  try { queue = JSON.parse(localStorage.getItem('cg_pending')) || []; } catch {}
  B = B || {cm: [{granted: ['security_storage']}], hosts: {}};

  function read() {
    // (no cookie, or not ours: no choice yet)
    try {
      const s = JSON.parse(decodeURIComponent(D.cookie.match(/(?:^|;\s*)cg_consent=([^;]*)/)[1]));
      if (s.c && s.n) return s;
    } catch {}
    return {c: {}, n: {}};
  }
  function write() {
    dirty = 0;
    D.cookie = 'cg_consent=' + encodeURIComponent(JSON.stringify(store)) + ';path=/;max-age=34128000;samesite=lax' +
      (location.protocol == 'https:' ? ';secure' : '');
  }

  // Google Consent Mode v2 (docs/standards.md). The defaults run now, synchronously, so they come
  // before any tag placed after this script: one per policy region (most specific wins), then the
  // global fallback. GPC denies the ad types where the region honours it.
  W.dataLayer = W.dataLayer || [];
  const gtag = W.gtag = W.gtag || function () { W.dataLayer.push(arguments); };
  const mode = (on) => { const o = {}; TYPES.forEach((t) => { o[t] = on(t) ? 'granted' : 'denied'; }); return o; };
  const preset = (d) => mode((t) => d.granted.includes(t) && !(dom && d.gpc && ADS.includes(t)));
  if (reg) {
    const d = B.cm.find((d) => d.region && d.region.includes(reg)) ||
      B.cm.find((d) => d.region && d.region.includes(reg.slice(0, 2))) || B.cm[B.cm.length - 1];
    gtag('consent', 'default', Object.assign(preset(d), {wait_for_update: 500}));
  } else {
    B.cm.forEach((d) => gtag('consent', 'default', Object.assign(preset(d), d.region ? {region: d.region} : {}, {wait_for_update: 500})));
  }
  if (store.m) { gtag('consent', 'update', store.m); last = JSON.stringify(store.m); }
  // Opt-in switches of the embed: data-ads-data-redaction, data-url-passthrough (Consent Mode features).
  if ('adsDataRedaction' in ds) gtag('set', 'ads_data_redaction', true);
  if ('urlPassthrough' in ds) gtag('set', 'url_passthrough', true);

  const gpcOn = () => (dom || cfg.gpc.signal) && cfg.gpc.honoured;
  const fresh = (p, s) => !p.max_age_days || Date.now() - s[1] < p.max_age_days * DAY;
  function allowed(id) {
    const p = P[id], s = store.c[id];
    if (!cfg) return !!(s && s[0]);
    if (!p) return false;
    if (srv && srv[id] != null) return srv[id];
    if (p.basis == 'contract') return true;
    if (s && p.ask) {
      if (!s[0]) return false;
      if (fresh(p, s) && cfg.notices[p.notice].accepts.includes(s[2])) return true;
    }
    return p.basis != 'consent' && !(p.basis == 'opt_out' && gpcOn());
  }
  const consentMode = (on) => mode((t) => t == 'security_storage' || !(gpcOn() && ADS.includes(t)) &&
    ((ps) => ps.length > 0 && ps.every((p) => on(p.id)))(cfg.purposes.filter((p) => p.consent_mode.includes(t))));
  const state = () => ({
    ready: !!cfg, region: cfg && cfg.region, gpc: !!cfg && gpcOn(),
    allowed: cfg ? Object.fromEntries(cfg.purposes.map((p) => [p.id, allowed(p.id)])) : {},
    do_not_train: !!cfg && cfg.purposes.every((p) => !p.ai || !allowed(p.id)),
  });

  // Tag gating: <script type="text/plain" data-consent="PURPOSE" src|data-src>, and other elements
  // (iframe, img, source) with data-consent and data-src and/or data-srcset (srcset first: img picks from it).
  function gate() {
    D.querySelectorAll('script[type="text/plain"][data-consent],[data-consent][data-src],[data-consent][data-srcset]').forEach((el) => {
      if (!el.dataset.consent.trim().split(/\s+/).every(allowed)) return;
      if (el.tagName != 'SCRIPT') {
        ['srcset', 'src'].forEach((a) => {
          const v = el.getAttribute('data-' + a);
          if (v != null) { el.removeAttribute('data-' + a); el.setAttribute(a, v); }
        });
        return;
      }
      const s = mk('script');
      for (const a of el.attributes) if (a.name != 'type' && a.name != 'data-src') s.setAttribute(a.name, a.value);
      if (el.dataset.src) s.src = el.dataset.src;
      s.type = el.dataset.type || 'text/javascript';
      s.nonce = el.nonce;
      // keep document order, as the page meant
      s.async = el.hasAttribute('async');
      s.text = el.text;
      el.replaceWith(s);
    });
  }
  // Automatic blocking: scripts from a purpose's hosts wait, however they arrive — parsed after this
  // script (seen by the observer before they run) or created by other scripts (createElement).
  function hold(s) {
    let host;
    if (!s.src || s.type == 'text/plain') return;
    try { host = new URL(s.src, location.href).hostname; } catch (e) { return; }
    for (const id in B.hosts) {
      if (B.hosts[id].some((x) => host == x || host.endsWith('.' + x)) && !allowed(id)) {
        if (s.type) s.dataset.type = s.type;
        s.type = 'text/plain';
        s.dataset.consent = id;
        return;
      }
    }
  }
  D.createElement = function (tag, o) {
    const el = mk(tag, o);
    if (String(tag).toLowerCase() == 'script') {
      const src = Object.getOwnPropertyDescriptor(HTMLScriptElement.prototype, 'src'), set = el.setAttribute;
      Object.defineProperty(el, 'src', {get: () => src.get.call(el), set: (v) => { src.set.call(el, v); hold(el); }});
      el.setAttribute = (n, v) => { set.call(el, n, v); if (String(n).toLowerCase() == 'src') hold(el); };
    }
    return el;
  };
  new MutationObserver((ms) => {
    ms.forEach((m) => m.addedNodes.forEach((n) => { if (n.tagName == 'SCRIPT') hold(n); }));
    if (live) gate();
  }).observe(D.documentElement, {childList: true, subtree: true});

  function wipe(res) {
    const rx = res.map((r) => new RegExp(r));
    D.cookie.split(';').forEach((c) => {
      const n = c.split('=')[0].trim();
      if (!rx.some((r) => r.test(n))) return;
      for (let h = location.hostname; h; h = h.slice(h.indexOf('.') + 1 || h.length)) {
        D.cookie = n + '=;path=/;max-age=0;domain=' + h;
      }
      D.cookie = n + '=;path=/;max-age=0';
    });
  }

  // A change takes effect in two steps. First Consent Mode's update and the gated tags (all that
  // apply(1) does): an inserted script runs only once the current task's work is done (right after it
  // when it was preloaded), so whatever else that task does delays it. On an acknowledgement the rest
  // (the cookie write, wiping cookies, toggles, listeners, closing the banner) waits for the next task:
  // writing document.cookie is a synchronous round trip to the browser's cookie store (1.4 ms in a
  // Chromium trace here), and reading it right after a write 0.7 ms median, 16 ms p90 under load
  // (benchmarks.md). apply() again then finds no tag left to start.
  function apply(first) {
    const m = consentMode(allowed), js = JSON.stringify(m);
    if (js != last) { gtag('consent', 'update', m); last = js; }
    gate();
    if (first) return;
    cfg.purposes.forEach((p) => { if (!allowed(p.id)) wipe(p.cookies); });
    D.querySelectorAll('consent-toggle input').forEach((i) => { i.checked = allowed(i.closest('consent-toggle').getAttribute('purpose')); });
    const st = state();
    listeners.forEach((f) => { try { f(st); } catch (e) { console.error(e); } });
  }

  // Records: every choice goes to POST /v1/consents/browser with the notice, its version and the sha256 of
  // the exact text shown, under the server-issued visitor id (cookie cg_vid) or a subject token's subject.
  const subject = (t) => JSON.parse(new TextDecoder().decode(Uint8Array.from(
    atob(t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)))).sub;
  // A failure worth retrying (no answer, 429, 5xx) is marked: the choice then waits in localStorage.
  const json = (r) => (r.ok ? r.json() : Promise.reject(Object.assign(new Error('consentgate: HTTP ' + r.status),
    {retry: r.status == 429 || r.status >= 500})));
  const net = (e) => { if (e instanceof TypeError) e.retry = true; throw e; };
  const headers = () => {
    const h = {'Content-Type': 'application/json'};
    if (ds.key) h.Authorization = 'Bearer ' + ds.key;
    if (token) h['X-Consentgate-Subject-Token'] = token;
    return h;
  };
  const visitor = () => vid || (vid = fetch(base + 'v1/visitors', {method: 'POST', headers: headers(), credentials: 'include'})
    .then(json, net).then((j) => (who = j.visitor_id), (e) => { vid = null; throw e; }));
  async function post(body) {
    // Known by now on a first view (fetched beside the configuration): no await, so the record's fetch
    // starts in the click's own task, before anything else the click does.
    body.subject = token ? subject(token) : who || await visitor();
    if (cfg.region) body.region = cfg.region;
    body.locale = cfg.locale;
    // A string body and no custom header: a CORS-safelisted request, sent without a preflight (one round
    // trip fewer before tags run), so the key and token travel in the body and the service checks the
    // Origin itself (docs/security.md). Its 201 is the acknowledgement (sent once the record is durable),
    // so the tags start on the status; the receipt is still read: left unread, the gated tag's fetch
    // that followed took 68 ms instead of 12–17 (benchmarks.md).
    const r = await fetch(base + 'v1/consents/browser', {method: 'POST', credentials: 'include',
      body: JSON.stringify({key: ds.key, subject_token: token, submission: body})}).catch(net);
    if (!r.ok) return json(r);
    r.text().catch(String);
  }
  // No WebCrypto outside secure contexts: null, and the server's hash of the same text is used.
  async function sha(t) {
    try {
      return Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(t))),
        (x) => (x + 256).toString(16).slice(1)).join('');
    } catch { return null; }
  }
  // Hashed while the banner is shown, so a click waits for nothing but the record.
  const hashes = {}, hashOf = (t) => hashes[t] || (hashes[t] = sha(t));
  // choice: which banner button made it (accept_all, reject_all, custom), for the outcome report.
  // The click's longest functions (click, record) are parenthesised function expressions, which V8
  // compiles with the script instead of on first call: compiling them lazily took about 1 ms of the
  // click in a Chromium trace, before the record's request.
  const record = (async function (map, source, choice) {
    const choices = [], now = Date.now();
    for (const id in map) {
      const p = P[id], s = store.c[id];
      if (!p || !p.ask) throw new Error('consentgate: no choice to make for ' + id);
      const n = cfg.notices[p.notice];
      choices.push({
        purpose: id, notice_id: p.notice, notice_version: n.version,
        action: map[id] ? 'grant' : p.basis == 'consent' ? (s && s[0] ? 'withdraw' : 'deny') : p.basis == 'opt_out' ? 'opt_out' : 'object',
        wording_hash: (await hashOf(texts[p.notice] || n.text)) || n.wording_hash,
      });
    }
    const after = (id) => (id in map ? map[id] : allowed(id));
    const signals = {consent_mode: consentMode(after), do_not_train: cfg.purposes.every((p) => !p.ai || !after(p.id))};
    if (choice) signals.banner_choice = choice;
    const c = {b: {choices, source, signals, occurred_at: new Date(now).toISOString()}, m: map, t: now};
    if (!choices.length) { commit(c); write(); return apply(); }
    // IAB TCF (tcf.js, loaded only where the policy enables it): its strings go in as evidence and
    // reach vendors only once the record is acknowledged (commit); without them the choice still counts.
    if (choice && W.consentgateTcf) Object.assign(signals, await W.consentgateTcf.forChoice(choice).catch(() => ({})));
    queue.push(c);
    // A no takes effect here at once, acknowledged or not: holding back more is always safe.
    let no = 0;
    for (const id in map) if (!map[id]) { no = store.c[id] = [0, now, cfg.notices[P[id].notice].version]; if (srv) srv[id] = false; }
    // The record's fetch first (called within flush() when the subject is known), then, in the same
    // task (so before any other script can run or the page can go), the copy in localStorage and the
    // no's cookie and wipes: 0.1–0.2 ms for the copy and 1–2 ms for the cookies no longer come before it.
    const sent = flush();
    keep();
    if (no) { write(); apply(); }
    // web.accept.fetch_tags_while_recording (served only where the policy sets it): the scripts this
    // choice allows download beside the record (their hosts see the visitor before it is acknowledged:
    // docs/web.md) and run only on commit. The link asks as the script will (same URL, CORS mode,
    // integrity), so the script is served from it. After flush() has called the record's fetch (added
    // before it, the links delayed the record by 3 ms; in a later task, they waited behind the click's
    // layout and frame, up to 20 ms: benchmarks.md).
    // only with preload:
    D.querySelectorAll('script[type="text/plain"][data-consent]').forEach((s) => {
      const u = s.dataset.src || s.getAttribute('src'), a = (n) => s.getAttribute(n);
      if (u && s.dataset.consent.trim().split(/\s+/).every(after)) {
        D.head.append(el('link', {rel: s.dataset.type == 'module' ? 'modulepreload' : 'preload', as: 'script', href: u,
          crossorigin: a('crossorigin'), integrity: a('integrity'), referrerpolicy: a('referrerpolicy'), nonce: s.nonce || null}));
      }
    });
    // end of preload
    await sent;
  });
  // The record comes first: a choice changes what runs only once the service has acknowledged it.
  // Until then it waits in localStorage (sent again every few seconds, when the browser is back
  // online, and on the next page view) with the time the visitor made it, and nothing gated runs.
  function keep() {
    // (storage off: the choice waits in memory only)
    try { queue.length ? localStorage.setItem('cg_pending', JSON.stringify(queue)) : localStorage.removeItem('cg_pending'); } catch {}
  }
  let sending = null, timer = 0;
  const flush = () => sending || (sending = (async () => {
    try {
      while (queue.length) {
        await post(Object.assign({}, queue[0].b));
        commit(queue.shift());
        keep();
        // The rest in the next task, after the scripts commit() inserted (and so the click's close of the banner).
        await new Promise((r) => setTimeout(r));
        write();
        apply();
      }
    } catch (e) {
      if (!e.retry) { queue.shift(); keep(); } else { clearTimeout(timer); timer = setTimeout(() => flush().then(done, console.error), 3e3); }
      throw e;
    } finally { sending = null; }
  })());
  function commit(c) {
    if (W.consentgateTcf) W.consentgateTcf.adopt(c.b.signals);
    const v = {};
    c.b.choices.forEach((x) => { v[x.purpose] = x.notice_version; });
    for (const id in c.m) {
      // no longer in the policy
      if (!P[id]) continue;
      store.c[id] = [c.m[id] ? 1 : 0, c.t, v[id]];
      store.n[P[id].notice] = v[id];
      if (srv) srv[id] = c.m[id];
    }
    store.m = consentMode(allowed);
    dirty = 1;
    apply(1);
  }
  // A retried choice went through: the banner that said it was waiting goes.
  function done() {
    if (!root) return;
    asked().forEach((p) => { store.n[p.notice] = cfg.notices[p.notice].version; });
    write();
    close();
  }
  // A signed-in subject: what the ledger says wins over this browser's cookie.
  async function sync() {
    if (!token) return;
    const st = await json(await fetch(base + 'v1/subjects/' + encodeURIComponent(subject(token)) + '/state' +
      (cfg.region ? '?region=' + cfg.region : ''), {headers: headers()}));
    srv = {};
    for (const id in st.purposes) if (st.purposes[id].evidence_event) srv[id] = st.purposes[id].allowed;
  }

  // The banner: opt-in (a dialog) where any purpose rests on consent, else a notice with opt-out.
  const el = (tag, a, ...kids) => {
    const e = mk(tag);
    for (const k in a) if (a[k] != null) (k == 'text' ? (e.textContent = a[k]) : e.setAttribute(k, a[k]));
    e.append(...kids.filter((k) => k));
    return e;
  };
  const S = (k) => cfg.strings[k];
  const asked = () => cfg.purposes.filter((p) => p.ask);
  const due = () => asked().some((p) => store.n[p.notice] != cfg.notices[p.notice].version ||
    (p.basis == 'consent' && !((s) => s && (!s[0] || fresh(p, s)))(store.c[p.id])));
  const button = (act, k, cls) => el('button', {type: 'button', class: cls || 'cg-btn', 'data-consentgate-action': act, text: S(k)});

  function render(settings) {
    close();
    ret = D.activeElement;
    const modal = cfg.flow == 'opt_in' || settings, ps = asked(), ids = [...new Set(ps.map((p) => p.notice))];
    const block = (nid) => el('div', {class: 'cg-notice'},
      el('p', {class: 'cg-text', 'data-notice': nid, dir: 'auto', text: (texts[nid] = cfg.notices[nid].text)}),
      el('div', {class: 'cg-rows'}, ...ps.filter((p) => p.notice == nid).map((p) => el('div', {class: 'cg-row'},
        el('label', {for: 'cg-' + p.id, dir: 'auto'}, el('strong', {text: p.title}), p.description && el('small', {text: p.description})),
        el('input', {type: 'checkbox', role: 'switch', class: 'cg-sw', id: 'cg-' + p.id, 'data-purpose': p.id, checked: allowed(p.id) ? '' : null})))));
    const isAi = (nid) => ps.some((p) => p.notice == nid && p.ai), ai = ids.filter(isAi), other = ids.filter((n) => !isAi(n));
    const fixed = cfg.purposes.filter((p) => !p.ask && allowed(p.id)).map((p) => p.title);
    root = el('div', {
      id: 'consentgate-banner', class: 'cg cg-' + cfg.flow + (settings ? ' cg-s' : ''), role: modal ? 'dialog' : 'region',
      'aria-modal': modal ? 'true' : null, 'aria-labelledby': 'cg-title', lang: cfg.locale, dir: cfg.dir, tabindex: '-1',
    }, el('div', {class: 'cg-box'},
      el('h2', {id: 'cg-title', text: S('title')}),
      el('p', {text: S(cfg.flow == 'opt_out' ? 'intro_opt_out' : 'intro_opt_in')}),
      gpcOn() && el('p', {class: 'cg-gpc', role: 'status', text: S('gpc_honoured')}),
      ai.length > 0 && el('div', {class: 'cg-ai'}, el('h3', {text: S('ai_section')}), el('p', {class: 'cg-hint', text: S('ai_hint')}), ...ai.map(block)),
      other.length > 0 && el('div', null, ai.length > 0 && el('h3', {text: S('other_section')}), ...other.map(block)),
      fixed.length > 0 && el('p', {class: 'cg-fixed', text: S('always_on') + ': ' + new Intl.ListFormat(cfg.locale, {type: 'unit'}).format(fixed)}),
      el('p', {class: 'cg-err', role: 'alert', hidden: queue.length ? null : '', text: queue.length ? S('pending') : null}),
      el('div', {class: 'cg-foot'}, el('div', {class: 'cg-btns'}, button('accept-all', 'accept_all'), button('reject-all', 'reject_all'), button('save', 'save'),
        button('settings', 'settings', 'cg-link'), (settings ? !due() : cfg.flow == 'opt_out') && button('close', 'close', 'cg-link')),
      el('a', {class: 'cg-pc', href: base + 'privacy-center' + (token ? '#token=' + token : ''), target: '_blank', rel: 'noopener', text: S('privacy_center')}))));
    ids.forEach((n) => hashOf(texts[n]));
    root.addEventListener('click', click);
    root.addEventListener('keydown', key);
    D.body.append(root);
    if (modal) root.focus();
  }
  function close() {
    if (!root) return;
    root.remove();
    root = null;
    if (ret && ret.focus && D.contains(ret)) ret.focus();
  }
  let busy = 0;
  const click = (async function (e) {
    const b = e.target.closest('[data-consentgate-action]'), act = b && b.dataset.consentgateAction;
    if (!act || busy) return;
    if (act == 'settings') { root.classList.add('cg-s'); root.querySelector('.cg-sw').focus(); return; }
    const ps = asked(), map = {}, seen = () => ps.forEach((p) => { store.n[p.notice] = cfg.notices[p.notice].version; });
    if (act == 'close') { seen(); write(); close(); return; }
    ps.forEach((p) => {
      const on = act == 'accept-all' || (act == 'save' && D.getElementById('cg-' + p.id).checked), s = store.c[p.id];
      // With TCF every Save is recorded: its TC string reaches vendors only with a record.
      if (act != 'save' || W.consentgateTcf || !s || !!s[0] != on || !fresh(p, s)) map[p.id] = on;
    });
    // Nothing on screen changes at the click: Chromium holds the page's tasks back (the record's answer
    // among them) from a click until the next frame, and repainting the buttons made that frame later
    // (benchmarks.md). A slow answer still shows: after 150 ms the buttons say the banner is waiting.
    const bs = root.querySelectorAll('button'), slow = setTimeout(() => bs.forEach((x) => { x.disabled = true; }), 150);
    busy = 1;
    try {
      await record(map, 'banner', act == 'save' ? 'custom' : act.replace('-', '_'));
      seen();
      write();
      close();
    } catch (err) {
      const m = root.querySelector('.cg-err');
      m.textContent = S(err.retry ? 'pending' : 'error');
      m.hidden = false;
      bs.forEach((x) => { x.disabled = false; });
      console.error(err);
    } finally { busy = 0; clearTimeout(slow); }
  });
  function key(e) {
    if (e.key == 'Escape') {
      // reopened after a choice: leaving changes nothing
      if (!due()) close();
      else if (root.classList.contains('cg-s')) { root.classList.remove('cg-s'); root.querySelector('[data-consentgate-action=settings]').focus(); }
    }
    if (e.key != 'Tab' || !root.getAttribute('aria-modal')) return;
    const f = [...root.querySelectorAll('button,input,a')].filter((x) => x.offsetParent), a = D.activeElement;
    if (e.shiftKey ? a == f[0] || a == root : a == f[f.length - 1]) {
      e.preventDefault();
      f[e.shiftKey ? f.length - 1 : 0].focus();
    }
  }

  // Start: styles and configuration load in parallel; nothing is recorded until the visitor acts,
  // except Global Privacy Control, recorded once as a gpc event (docs/decisions.md, rule 4) and honoured on every view.
  const css = el('link', {rel: 'stylesheet', href: base + 'banner.css'});
  const styled = new Promise((r) => { css.onload = css.onerror = r; });
  D.head.append(css);
  const q = new URLSearchParams(), lang = ds.locale || N.language;
  if (lang) q.set('locale', lang);
  if (reg) q.set('region', reg);
  const loaded = new Promise((r) => (D.readyState == 'loading' ? D.addEventListener('DOMContentLoaded', r) : r()));
  // The visitor id is asked for beside the configuration (which is public and cached; the id is
  // not), so "Accept all" costs one request; a browser that has chosen before already has its id.
  if (!token && !Object.keys(store.c).length) visitor().catch(() => {});
  // An acknowledged choice is written to the cookie one task after its tags start (flush): a page left
  // in between still keeps it.
  W.addEventListener('pagehide', () => { if (dirty) write(); });
  W.addEventListener('online', () => { if (cfg && queue.length) flush().then(done, console.error); });
  const ready = fetch(base + 'v1/banner/config?' + q).then(json).then(async (c) => {
    cfg = c;
    c.purposes.forEach((p) => { P[p.id] = p; });
    await sync().catch(console.error);
    // share.js (loaded only where the policy sets web.share): a hand-off from another domain of the group.
    if (W.consentgateShare && !token) await W.consentgateShare({cfg: c, P, store, queue, write, visitor, headers}).catch(console.error);
    if ((dom || c.gpc.signal) && !store.g) {
      post({action: 'gpc', source: 'banner', signals: {gpc: true, via: dom ? 'dom' : 'header'}})
        .then(() => { store.g = 1; write(); }, console.error);
    }
    await loaded;
    live = true;
    apply();
    if (queue.length) flush().then(done, console.error);
    if (due() || queue.length) { await styled; render(false); }
    return state();
  });
  ready.catch(console.error);

  W.consentgate = {
    allowed,
    state,
    ready,
    show: () => ready.then(() => render(true)),
    onChange(f) { listeners.push(f); if (cfg) f(state()); },
    set: (id, on, source) => ready.then(() => record({[id]: !!on}, source || 'api')),
    // the visitor's choices restated as a "custom" choice (tcf.js records its finer choices so)
    save: () => ready.then(() => record(Object.fromEntries(asked().filter((p) => store.c[p.id]).map((p) => [p.id, allowed(p.id)])), 'api', 'custom')),
    identify(t) { token = t; return ready.then(sync).then(apply); },
  };
  D.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest('[data-consentgate-show]')) { e.preventDefault(); W.consentgate.show(); }
  });

  // <consent-toggle purpose="…" [subject-token="…"]>: one purpose, its notice's wording, same records.
  if (W.customElements) {
    customElements.define('consent-toggle', class extends HTMLElement {
      connectedCallback() {
        if (this.firstChild) return;
        const id = this.getAttribute('purpose'), t = this.getAttribute('subject-token');
        const i = el('input', {type: 'checkbox', role: 'switch', class: 'cg-sw', disabled: ''}), span = el('span');
        this.append(el('label', {class: 'cg-toggle'}, i, span));
        if (t) token = t;
        ready.then(async () => {
          if (t) await sync();
          const p = P[id];
          if (!p || !p.ask) { this.hidden = true; return; }
          span.textContent = texts[p.notice] = cfg.notices[p.notice].text;
          i.checked = allowed(id);
          i.disabled = false;
          i.addEventListener('change', () => {
            i.disabled = true;
            record({[id]: i.checked}, 'toggle').catch((e) => { i.checked = !i.checked; console.error(e); })
              .finally(() => { i.disabled = false; });
          });
        });
      }
    });
  }
})(/*BOOT*/null);
