/* consentgate IAB TCF v2.3 CMP API — docs/tcf.md. Embed before any vendor tag, and before banner.js:
   <script src="https://HOST/tcf.js"></script>. Served only while the policy's web.tcf.enabled is true.
   No inline code, no eval (strict CSP). TC strings are written by the service (POST /v1/tcf/tc-string):
   this file only decodes them, answers __tcfapi and keeps the euconsent-v2 cookie. */
((C) => {
  'use strict';
  const W = window, D = document, me = D.currentScript;
  const base = me.src.replace(/[^/]*$/, '');
  // C: compiled in by the service (cmpId, cmpVersion, gvlVersion, policyVersion, vendors, the purposes and
  // special features they or the publisher use, ac)
  C = C || {cmpId: 0, cmpVersion: 0, gvlVersion: 0, policyVersion: 5, vendors: [], purposes: [], specialFeatures: [], ac: []};
  const COOKIE = 'euconsent-v2', DAYS = 390; // 13 months, the longest TCF policy lets a string live
  const listeners = new Map();
  let nextId = 1, tc = null, ac = '', status = 'loading', display = 'hidden', eventStatus = 'tcloaded';
  const early = (W.__tcfapi && W.__tcfapi.a) || []; // calls an earlier IAB-style stub queued

  // -- decoding (IAB "Consent string and vendor list formats v2.3") --------------------------------
  function bits(seg) {
    const s = atob(seg.replace(/-/g, '+').replace(/_/g, '/'));
    let out = '';
    for (let i = 0; i < s.length; i++) out += (s.charCodeAt(i) + 256).toString(2).slice(1);
    let at = 0;
    const r = {
      int: (n) => { const v = parseInt(out.substr(at, n) || '0', 2); at += n; return v; },
      flags: (n) => { const o = {}; for (let i = 1; i <= n; i++) o[i] = out[at++] == '1'; return o; },
      chars: () => String.fromCharCode(65 + r.int(6), 65 + r.int(6)),
      ranges: (o, v) => {
        for (let n = r.int(12); n > 0; n--) {
          const isRange = r.int(1), a = r.int(16), b = isRange ? r.int(16) : a;
          for (let id = a; id <= b; id++) o[id] = v;
        }
        return o;
      },
      vendors: () => {
        const max = r.int(16);
        if (r.int(1)) return r.ranges({}, true);
        const o = r.flags(max);
        for (const k in o) if (!o[k]) delete o[k];
        return o;
      },
    };
    return r;
  }
  function decode(str) {
    const segs = str.split('.'), r = bits(segs[0]), m = {};
    if (r.int(6) != 2) throw new Error('consentgate tcf: not a TCF v2 string');
    m.created = r.int(36); m.updated = r.int(36);
    m.cmpId = r.int(12); m.cmpVersion = r.int(12); r.int(6); m.lang = r.chars();
    m.gvlVersion = r.int(12); m.policyVersion = r.int(6);
    m.isServiceSpecific = !!r.int(1); m.useNonStandardTexts = !!r.int(1);
    m.specialFeatures = r.flags(12); m.purposes = r.flags(24); m.purposeLI = r.flags(24);
    m.purposeOneTreatment = !!r.int(1); m.publisherCC = r.chars();
    m.vendorConsents = r.vendors(); m.vendorLI = r.vendors();
    m.restrictions = {};
    for (let n = r.int(12); n > 0; n--) {
      const p = r.int(6), type = r.int(2);
      r.ranges(m.restrictions[p] = m.restrictions[p] || {}, type);
    }
    m.pub = {consents: {}, legitimateInterests: {}, customPurpose: {consents: {}, legitimateInterests: {}}};
    for (const s of segs.slice(1)) {
      const q = bits(s), type = q.int(3);
      if (type == 1) m.disclosed = q.vendors();
      if (type == 3) {
        m.pub.consents = q.flags(24); m.pub.legitimateInterests = q.flags(24);
        const n = q.int(6);
        m.pub.customPurpose = {consents: q.flags(n), legitimateInterests: q.flags(n)};
      }
    }
    return m;
  }

  // -- what __tcfapi answers (CMP API v2.3) ---------------------------------------------------------
  const pick = (o, ids) => {
    if (!ids) return Object.assign({}, o);
    const out = {};
    ids.forEach((id) => { out[id] = !!o[id]; });
    return out;
  };
  const slice = (o, n) => { const out = {}; for (let i = 1; i <= n; i++) out[i] = !!o[i]; return out; };
  function tcData(listenerId, vendorIds) {
    const m = tc || {};
    return {
      tcString: tc ? tc.str : '',
      tcfPolicyVersion: m.policyVersion || C.policyVersion,
      cmpId: C.cmpId,
      cmpVersion: C.cmpVersion,
      gdprApplies: true,
      eventStatus,
      cmpStatus: status,
      listenerId,
      isServiceSpecific: true,
      useNonStandardTexts: false,
      publisherCC: m.publisherCC || '',
      purposeOneTreatment: !!m.purposeOneTreatment,
      purpose: {consents: slice(m.purposes || {}, 11), legitimateInterests: slice(m.purposeLI || {}, 11)},
      vendor: {consents: pick(m.vendorConsents || {}, vendorIds), legitimateInterests: pick(m.vendorLI || {}, vendorIds),
        disclosedVendors: pick(m.disclosed || {}, vendorIds)},
      specialFeatureOptins: slice(m.specialFeatures || {}, 2),
      publisher: Object.assign({restrictions: m.restrictions || {}}, m.pub || {consents: {}, legitimateInterests: {},
        customPurpose: {consents: {}, legitimateInterests: {}}}),
      addtlConsent: ac,
    };
  }
  const ping = () => ({gdprApplies: true, cmpLoaded: status == 'loaded', cmpStatus: status, displayStatus: display,
    apiVersion: '2.3', cmpVersion: C.cmpVersion, cmpId: C.cmpId, gvlVersion: C.gvlVersion, tcfPolicyVersion: C.policyVersion});
  const commands = {
    ping: (cb) => cb(ping(), true),
    addEventListener(cb) {
      const id = nextId++;
      listeners.set(id, cb);
      cb(tcData(id), true);
    },
    removeEventListener: (cb, id) => cb(listeners.delete(id)),
    getTCData: (cb, vendorIds) => cb(tcData(undefined, vendorIds), true), // deprecated in 2.2, kept for older callers
  };
  function api(command, version, cb, parameter) {
    if (typeof cb != 'function') return;
    if (command == 'ping') { commands.ping(cb); return; } // answered at once, even while loading
    if (!(command in commands) || (version != null && version !== 2 && version !== '2')) { cb(null, false); return; }
    if (status != 'loaded') { queue.push([command, version, cb, parameter]); return; }
    commands[command](cb, parameter);
  }
  const queue = [];
  W.__tcfapi = api;

  // Frames ask through postMessage: the frame named __tcfapiLocator tells them a CMP is here.
  if (!W.frames.__tcfapiLocator) {
    const add = () => {
      const f = D.createElement('iframe');
      f.style.cssText = 'display:none';
      f.name = '__tcfapiLocator';
      f.title = 'TCF locator';
      D.body.appendChild(f);
    };
    if (D.body) add(); else D.addEventListener('DOMContentLoaded', add);
  }
  W.addEventListener('message', (e) => {
    let msg = e.data;
    if (typeof msg == 'string') { try { msg = JSON.parse(msg); } catch (x) { return; } }
    const call = msg && msg.__tcfapiCall;
    if (!call || !e.source) return;
    api(call.command, call.version, (returnValue, success) => {
      const reply = {__tcfapiReturn: {returnValue, success, callId: call.callId}};
      e.source.postMessage(typeof e.data == 'string' ? JSON.stringify(reply) : reply, '*');
    }, call.parameter);
  });

  // -- the cookie and choices ----------------------------------------------------------------------
  function readCookie() {
    const m = D.cookie.match(/(?:^|;\s*)euconsent-v2=([^;]*)/);
    if (!m) return null;
    try {
      const d = decode(m[1]);
      d.str = m[1];
      // Asked again when the string is another CMP's, from another TCF policy version, or did not
      // disclose a vendor the site now names; a newer GVL alone does not ask again (TCF policy).
      const known = C.vendors.every((v) => d.disclosed && d.disclosed[v]);
      return d.cmpId == C.cmpId && d.policyVersion == C.policyVersion && known ? d : null;
    } catch (e) { return null; }
  }
  function emit() { listeners.forEach((cb, id) => cb(tcData(id), true)); }
  // The service writes the strings; they take effect (cookie, __tcfapi listeners) only through
  // adopt(), which the banner calls once the ledger has acknowledged the choice they go with.
  async function encode(body) {
    body = Object.assign({locale: D.documentElement.lang || navigator.language || 'en'}, body);
    if (tc) body.created = new Date(tc.created * 100).toISOString();
    const r = await fetch(base + 'v1/tcf/tc-string', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(body)});
    if (!r.ok) throw new Error('consentgate tcf: HTTP ' + r.status);
    const j = await r.json();
    return {tc_string: j.tc_string, addtl_consent: j.addtl_consent};
  }
  function adopt(s) {
    if (!s || !s.tc_string) return;
    const attrs = ';path=/;max-age=' + DAYS * 86400 + ';samesite=lax' + (location.protocol == 'https:' ? ';secure' : '');
    D.cookie = COOKIE + '=' + s.tc_string + attrs;
    D.cookie = 'cg_addtl_consent=' + encodeURIComponent(s.addtl_consent || '') + attrs;
    tc = decode(s.tc_string);
    tc.str = s.tc_string;
    ac = s.addtl_consent || '';
    eventStatus = 'useractioncomplete';
    display = 'hidden';
    emit();
  }
  // -- the banner's TCF layers (docs/tcf.md, "The banner's TCF layers") ------------------------------
  // banner.js knows nothing of TCF: the layers join its dialog when it appears, in its language, and
  // its "Save" asks forChoice('custom') for the string these switches produce, which it records with
  // the choice before adopt() lets any vendor see it.
  let section = null, pending = null, seen = null;
  const loads = {};
  const load = (locale) => loads[locale] || (loads[locale] = fetch(base + 'v1/tcf/ui?locale=' + encodeURIComponent(locale))
    .then((r) => { if (!r.ok) throw new Error('consentgate tcf: HTTP ' + r.status); return r.json(); })
    .catch((e) => { delete loads[locale]; throw e; }));
  const el = (tag, a, ...kids) => {
    const e = D.createElement(tag);
    for (const k in a) if (a[k] != null) (k == 'text' ? (e.textContent = a[k]) : e.setAttribute(k, a[k]));
    e.append(...kids.filter((k) => k));
    return e;
  };
  const fill = (t, o) => t.replace(/\{(\w+)\}/g, (_, k) => o[k]);
  // One switch: kind p (purpose consent), pl (purpose legitimate interest: off objects), sf (special
  // feature), v (vendor consent), vl (vendor legitimate interest: off objects), ac (Google ATP consent),
  // s (a stack: its members' consents).
  const sw = (kind, id, on, label, name) => el('div', {class: 'cg-row'}, el('label', {for: 'cg-tcf-' + kind + id, dir: 'auto'}, ...label),
    el('input', {type: 'checkbox', role: 'switch', class: 'cg-sw', id: 'cg-tcf-' + kind + id, 'data-tcf': kind, 'data-id': id,
      checked: on ? '' : null, 'aria-label': name}));
  function build(root, d) {
    const S = d.strings, m = tc, had = (o, i, none) => (m ? !!(o && o[i]) : none);
    const list = (xs) => new Intl.ListFormat(d.locale, {type: 'unit'}).format(xs.filter(Boolean)); // the locale's separators
    const named = (sec, ids) => list(ids.map((i) => sec[i] && sec[i].name));
    const line = (label, text) => text && el('small', {dir: 'auto', text: label + ': ' + text});
    // The GVL's texts carry their own language (IAB's English where no translation is stored).
    const titled = (t) => [el('strong', {lang: d.language, text: t.name}), t.description && el('small', {lang: d.language, text: t.description})];
    const pids = Object.keys(d.purposes).map(Number).filter((i) => i >= 1 && i <= 11).sort((a, b) => a - b);
    const fids = Object.keys(d.specialFeatures).map(Number).filter((i) => i >= 1 && i <= 2).sort((a, b) => a - b);
    const li = new Set(d.legitimateInterests), count = d.vendors.length;
    // Stacks (web.tcf.stacks): IAB's name and description for some purposes and special features. The
    // first layer shows them instead of their members; the second keeps a switch per member, grouped
    // under the stack's own switch, which switches exactly those consents (TCF policy, Appendix A).
    const stacks = d.stacks || [], inStack = new Set(), sfInStack = new Set();
    stacks.forEach((s) => { s.purposes.forEach((i) => inStack.add(i)); s.specialFeatures.forEach((i) => sfInStack.add(i)); });
    const purpose = (i) => {
      const p = d.purposes[i];
      return [sw('p', i, had(m && m.purposes, i, false), titled(p)),
        li.has(i) && sw('pl', i, had(m && m.purposeLI, i, true), [el('span', {text: S.li})], p.name + ': ' + S.li)];
    };
    const feature = (i) => sw('sf', i, had(m && m.specialFeatures, i, false), titled(d.specialFeatures[i]));
    const ownP = pids.filter((i) => !inStack.has(i)), ownF = fids.filter((i) => !sfInStack.has(i));
    // members indented under their stack (CSSOM, which the strict CSP allows; banner.css stays as it is)
    const nest = (r) => { if (r) r.style.paddingInlineStart = '1.5rem'; return r; };
    const rows = [el('h3', {text: S.purposes}), ...stacks.map((s) => el('div', {class: 'cg-tcf-stack', role: 'group', 'aria-label': s.name},
      sw('s', s.id, false, titled(s)), ...s.purposes.filter((i) => d.purposes[i]).flatMap(purpose).map(nest),
      ...s.specialFeatures.filter((i) => d.specialFeatures[i]).map(feature).map(nest))), ...ownP.flatMap(purpose)];
    if (ownF.length) rows.push(el('h3', {text: S.special_features}), ...ownF.map(feature));
    rows.push(el('h3', {text: fill(S.vendors, {count})}), ...d.vendors.map((v) => el('details', {class: 'cg-tcf-v'},
      el('summary', {dir: 'auto', text: v.name}),
      line(S.v_consent, named(d.purposes, v.purposes)),
      line(S.v_li, named(d.purposes, v.legIntPurposes)),
      line(S.v_special, named(d.specialPurposes, v.specialPurposes)),
      line(S.v_features, named(d.features, v.features)),
      line(S.special_features, named(d.specialFeatures, v.specialFeatures)),
      line(S.data, list(v.data.map((i) => d.dataCategories[i]))),
      v.retention != null && el('small', {text: fill(S.retention, {days: v.retention})}),
      v.policy && el('a', {href: v.policy, target: '_blank', rel: 'noopener', text: S.policy}),
      (v.purposes.length || v.flexiblePurposes.length) && sw('v', v.id, had(m && m.vendorConsents, v.id, false), [el('span', {text: S.consent})], v.name + ': ' + S.consent),
      v.legIntPurposes.length && sw('vl', v.id, had(m && m.vendorLI, v.id, true), [el('span', {text: S.li})], v.name + ': ' + S.li))));
    // Google's Ad Tech Providers outside the TCF: a consent switch each, shown as the stored AC string
    // ("2~consented~dv.refused") says; their choices make the AC string, not the TC string.
    const acOn = new Set((ac.split('~')[1] || '').split('.').map(Number));
    if (d.googleAc.length) rows.push(el('h3', {text: fill(S.ac_vendors, {count: d.googleAc.length})}), ...d.googleAc.map((v) => {
      const name = v.name || fill(S.ac_vendor, {id: v.id});
      return el('div', {class: 'cg-tcf-ac'}, sw('ac', v.id, m && acOn.has(v.id), [el('strong', {dir: 'auto', text: name})], name + ': ' + S.consent),
        v.policy && el('a', {href: v.policy, target: '_blank', rel: 'noopener', text: S.policy}));
    }));
    // First layer: who, how many, and what for (TCF policy, Appendix B); the switches are the second.
    const out = el('div', {class: 'cg-tcf', 'data-gvl': d.gvl_version},
      el('p', {dir: 'auto', text: fill(S.intro, {count})}),
      el('ul', {class: 'cg-tcf-list'}, ...stacks.map((s) => el('li', {dir: 'auto'}, el('strong', {lang: d.language, text: s.name}), ' ',
        el('span', {lang: d.language, text: s.description}))), ...ownP.concat(ownF.map((i) => -i)).map((i) => el('li', {dir: 'auto',
        text: i > 0 ? d.purposes[i].name : d.specialFeatures[-i].name}))),
      el('div', {class: 'cg-rows'}, ...rows));
    // A stack's switch is on while all its members are; switching it switches them all.
    const members = (st) => st.closest('.cg-tcf-stack').querySelectorAll('[data-tcf=p],[data-tcf=sf]');
    const sync = () => out.querySelectorAll('[data-tcf=s]').forEach((st) => { st.checked = [...members(st)].every((i) => i.checked); });
    out.addEventListener('change', (e) => {
      if (e.target.dataset.tcf == 's') members(e.target).forEach((i) => { i.checked = e.target.checked; });
      sync();
    });
    sync();
    root.querySelector('.cg-box').insertBefore(out, root.querySelector('.cg-err'));
    return out;
  }
  async function attach(root) {
    section = null;
    const d = await load(root.getAttribute('lang') || 'en').catch((e) => { console.error(e); return null; });
    if (d && root.isConnected && !root.querySelector('.cg-tcf')) section = build(root, d);
  }
  const watch = () => new MutationObserver(() => {
    const root = D.getElementById('consentgate-banner');
    if (root && root != seen) attach(seen = root);
  }).observe(D.body, {childList: true});
  if (D.body) watch(); else D.addEventListener('DOMContentLoaded', watch);
  function fromLayers() {
    const b = {purpose_consents: [], purpose_objections: [], special_features: [], vendor_consents: [], vendor_objections: [],
      google_ac_consents: []};
    const key = {p: 'purpose_consents', pl: 'purpose_objections', sf: 'special_features', v: 'vendor_consents', vl: 'vendor_objections',
      ac: 'google_ac_consents'};
    section.querySelectorAll('[data-tcf]:not([data-tcf=s])').forEach((i) => { // a stack is its members' switches
      // consents are switched on; objections are legitimate interests switched off
      if (i.checked != (i.dataset.tcf == 'pl' || i.dataset.tcf == 'vl')) b[key[i.dataset.tcf]].push(+i.dataset.id);
    });
    // The publisher's own TCF purposes follow the same switches: one purpose, one choice.
    b.publisher_consents = b.purpose_consents;
    b.publisher_objections = b.purpose_objections;
    return b;
  }
  // Finer choices from the site's own UI: recorded through banner.js as a "custom" choice that restates
  // the visitor's current choices, and applied only once that record is acknowledged, like any other.
  async function choose(body) {
    const cg = W.consentgate;
    if (!cg || !cg.save) throw new Error('consentgate tcf: choose() records through banner.js; embed it after tcf.js');
    const before = tc;
    pending = body;
    try { await cg.save(); } finally { pending = null; }
    if (tc == before) throw new Error('consentgate tcf: nothing was recorded (no choice in the banner yet), so nothing changed');
    return {tc_string: tc.str, addtl_consent: ac};
  }
  // "Accept all" consents to what the layers disclose, no more: a purpose no disclosed vendor and not the
  // publisher uses was never shown, so no consent to it is signalled (TCF policy; docs/tcf.md).
  const tcf = {
    decode,
    choose,
    acceptAll: () => encode({purpose_consents: C.purposes, special_features: C.specialFeatures, vendor_consents: C.vendors,
      google_ac_consents: C.ac, publisher_consents: C.purposes}),
    rejectAll: () => encode({purpose_objections: C.purposes, vendor_objections: C.vendors, publisher_objections: C.purposes}),
    // The banner asks for the strings its choice produced, to record them with the event as evidence:
    // a "Save" gets the layers' switches; without the layers (not loaded yet) it carries none, and the
    // TCF state stays as it was.
    forChoice: (choice) => (pending ? encode(pending) : choice == 'accept_all' ? tcf.acceptAll() : choice == 'reject_all' ? tcf.rejectAll()
      : choice == 'custom' && section && section.isConnected ? encode(fromLayers()) : Promise.resolve({})),
    adopt,
    shown() { if (tc) return; display = 'visible'; eventStatus = 'cmpuishown'; emit(); },
  };
  W.consentgateTcf = tcf;

  tc = readCookie();
  if (tc) ac = decodeURIComponent((D.cookie.match(/(?:^|;\s*)cg_addtl_consent=([^;]*)/) || [0, ''])[1]);
  status = 'loaded';
  if (!tc) { display = 'visible'; eventStatus = 'cmpuishown'; }
  queue.splice(0).concat(early).forEach((a) => api(...a));
})(/*TCF*/null);
