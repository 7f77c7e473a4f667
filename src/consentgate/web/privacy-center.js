/* consentgate privacy center (docs/web.md): a signed-in person's choices per purpose, their history,
   their evidence, and their data-subject requests (a copy of their data, an objection to AI training,
   erasure), filed and followed through the API with their subject token. The site links here with its subject token in the URL
   fragment (/privacy-center#token=…): fragments never reach a server or a Referer, and the page drops
   it from the address bar at once and keeps it for this tab only. No inline code; policy text is only
   ever set as text. */
(() => {
  'use strict';
  const D = document, $ = (s) => D.querySelector(s);
  const take = () => {
    const found = location.hash.match(/token=([^&]+)/);
    if (!found) return false;
    sessionStorage.setItem('cg_token', decodeURIComponent(found[1]));
    history.replaceState(null, '', location.pathname + location.search);
    return true;
  };
  take();
  // A link to #token=… followed from this tab while it is already here changes only the fragment (no
  // new page load): the page starts again for that token rather than showing the previous person.
  addEventListener('hashchange', () => { if (take()) location.reload(); });
  const token = sessionStorage.getItem('cg_token');
  const params = new URLSearchParams(location.search);
  let cfg = null, evidence = null;
  const S = (k) => cfg.strings[k];

  const el = (tag, a, ...kids) => {
    const e = D.createElement(tag);
    for (const k in a) if (a[k] != null) (k == 'text' ? (e.textContent = a[k]) : e.setAttribute(k, a[k]));
    e.append(...kids.filter((k) => k));
    return e;
  };
  // A failed call rejects with an Error carrying the HTTP status (and the JSON error body, if any).
  const json = async (r) => {
    if (r.ok) return r.json();
    const e = new Error('HTTP ' + r.status);
    e.status = r.status;
    e.body = await r.json().catch(() => null);
    throw e;
  };
  // "{id}" and "{date}" in a string become values (the values are set as text, like everything else);
  // in a right-to-left page each value is a bidi isolate, so a Latin reference ID keeps its place.
  const fill = (s, v) => s.replace(/\{(\w+)\}/g, (m, k) => (!(k in v) ? m
    : cfg.dir == 'rtl' ? '\u2068' + v[k] + '\u2069' : v[k]));
  // A date of the API (YYYY-MM-DD) as the person's locale writes it.
  const day = (iso) => {
    try {
      return new Date(iso + 'T00:00:00Z').toLocaleDateString(cfg.locale, {timeZone: 'UTC', dateStyle: 'long'});
    } catch (e) { return iso; }
  };
  const today = () => new Date().toISOString().slice(0, 10);
  const subject = (t) => JSON.parse(new TextDecoder().decode(Uint8Array.from(
    atob(t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)))).sub;
  const call = (path, body) => fetch(path, {
    method: body ? 'POST' : 'GET',
    headers: {'X-Consentgate-Subject-Token': token, 'Content-Type': 'application/json'},
    body: body && JSON.stringify(body),
  });
  const api = async (path, body) => json(await call(path, body));
  async function sha(text) {
    try {
      return Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))),
        (x) => (x + 256).toString(16).slice(1)).join('');
    } catch (e) { return null; }
  }
  const person = () => 'v1/subjects/' + encodeURIComponent(subject(token));

  async function main() {
    const q = new URLSearchParams();
    const lang = params.get('locale') || navigator.language;
    if (lang) q.set('locale', lang);
    if (params.get('region')) q.set('region', params.get('region'));
    cfg = await json(await fetch('v1/banner/config?' + q));
    const html = D.documentElement;
    html.lang = cfg.locale;
    html.dir = cfg.dir;
    D.title = S('pc_title') + ' — ' + cfg.organization.name;
    $('#pc-org').textContent = cfg.organization.name;
    $('#pc-title').textContent = S('pc_title');
    $('#pc-intro').textContent = S('pc_intro');
    if ((navigator.globalPrivacyControl === true || cfg.gpc.signal) && cfg.gpc.honoured) {
      $('#pc-gpc').textContent = S('gpc_honoured');
      $('#pc-gpc').hidden = false;
    }
    requests();
    if (!token) {
      $('#pc-signin').textContent = S('pc_signin');
      $('#pc-signin').hidden = false;
      return;
    }
    $('#pc-choices-h').textContent = S('pc_choices');
    $('#pc-history-h').textContent = S('pc_history');
    for (const k of ['when', 'purpose', 'choice', 'version']) $('#pc-h-' + k).textContent = S('pc_' + k);
    $('#pc-download').textContent = S('pc_download');
    $('#pc-download').addEventListener('click', download);
    $('#pc-choices').hidden = false;
    $('#pc-history').hidden = false;
    actions();
    await Promise.all([refresh(), mine().catch(() => say(S('pc_req_failed')))]);
  }

  async function refresh(focusId) {
    const region = cfg.region ? '?region=' + encodeURIComponent(cfg.region) : '';
    const [state, ev] = await Promise.all([api(person() + '/state' + region), api(person() + '/evidence')]);
    evidence = ev;
    showChoices(state);
    showHistory(ev);
    if (focusId) D.getElementById(focusId).focus();
  }

  // Per notice, its exact wording, then a switch per purpose; AI-training purposes first, on their own.
  function showChoices(state) {
    const list = $('#pc-list'), ps = cfg.purposes;
    const ids = [...new Set(ps.filter((p) => p.ask).map((p) => p.notice))];
    const isAi = (nid) => ps.some((p) => p.notice == nid && p.ai);
    const block = (nid) => el('div', {class: 'pc-notice'},
      el('p', {class: 'cg-text', 'data-notice': nid, dir: 'auto', text: cfg.notices[nid].text}),
      ...ps.filter((p) => p.ask && p.notice == nid).map((p) => row(p, state.purposes[p.id])));
    list.replaceChildren(
      ...ids.filter(isAi).length ? [el('h3', {text: S('ai_section')}), el('p', {class: 'pc-hint', text: S('ai_hint')}), ...ids.filter(isAi).map(block)] : [],
      ...ids.some((n) => !isAi(n)) ? [el('h3', {text: S('other_section')}), ...ids.filter((n) => !isAi(n)).map(block)] : [],
      ...ps.filter((p) => !p.ask).map((p) => el('div', {class: 'pc-row pc-fixed'},
        el('div', null, el('strong', {text: p.title}), el('small', {text: S('basis_' + p.basis) || ''})),
        el('span', {text: state.purposes[p.id] && state.purposes[p.id].allowed ? S('always_on') : S('pc_not_allowed')}))));
  }
  function row(p, decision) {
    const id = 'pc-' + p.id, on = !!(decision && decision.allowed);
    const input = el('input', {type: 'checkbox', role: 'switch', class: 'cg-sw', id, 'data-purpose': p.id, checked: on ? '' : null});
    input.addEventListener('change', () => change(p, input));
    return el('div', {class: 'pc-row'},
      el('label', {for: id}, el('strong', {text: p.title}), p.description && el('small', {text: p.description}),
        el('small', {text: S('basis_' + p.basis) + ' · ' + (on ? S('pc_allowed') : S('pc_not_allowed'))})),
      input);
  }
  async function change(p, input) {
    const on = input.checked, n = cfg.notices[p.notice];
    input.disabled = true;
    $('#pc-status').textContent = '';
    try {
      const action = on ? 'grant' : p.basis == 'consent' ? 'withdraw' : p.basis == 'opt_out' ? 'opt_out' : 'object';
      await api('v1/consents', {
        subject: subject(token), locale: cfg.locale, source: 'privacy_center',
        ...(cfg.region ? {region: cfg.region} : {}),
        choices: [{purpose: p.id, action, notice_id: p.notice, notice_version: n.version,
          wording_hash: (await sha(D.querySelector('[data-notice="' + p.notice + '"]').textContent)) || n.wording_hash}],
      });
      $('#pc-status').textContent = S('pc_saved');
      await refresh(input.id);
    } catch (e) {
      input.checked = !on;
      input.disabled = false;
      $('#pc-status').textContent = S('error');
    }
  }

  function showHistory(ev) {
    const titles = Object.fromEntries(cfg.purposes.map((p) => [p.id, p.title]));
    const rows = ev.events.slice().reverse().map((e) => el('tr', null,
      el('td', null, el('time', {datetime: e.event_time, text: new Date(e.event_time).toLocaleString(cfg.locale)})),
      el('td', {text: e.purpose ? titles[e.purpose] || e.purpose_title || e.purpose : '—'}),
      el('td', {text: S('act_' + e.action) || e.action}),
      el('td', {text: e.privacy_notice ? e.privacy_notice.id + ' v' + e.privacy_notice.version : '—'})));
    $('#pc-events').replaceChildren(...(rows.length ? rows : [el('tr', null, el('td', {colspan: '4', text: S('pc_empty')}))]));
  }

  function save(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = el('a', {href: url, download: name});
    D.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  function download() {
    save(new Blob([JSON.stringify(evidence, null, 2)], {type: 'application/json'}),
      'consentgate-evidence-' + today() + '.json');
  }

  function requests() {
    $('#pc-requests-h').textContent = S('pc_requests');
    const contact = cfg.organization.contact;
    const link = (kind, k) => {
      const href = cfg.requests_url ? cfg.requests_url + (cfg.requests_url.includes('?') ? '&' : '?') + 'kind=' + kind
        : /^https?:\/\//.test(contact) ? contact
        : contact ? 'mailto:' + contact + '?subject=' + encodeURIComponent(S(k)) : null;
      return href && el('li', null, el('a', {href, 'data-request': kind, text: S(k)}));
    };
    $('#pc-request-links').replaceChildren(...[link('access', 'pc_req_access'), link('erase', 'pc_req_erase'), link('object', 'pc_req_object')].filter((x) => x));
  }

  // -- data-subject requests, with the token: filed and followed here ------------------------------
  let busy = false;
  const say = (text) => { $('#pc-req-status').textContent = text; };
  function actions() {
    $('#pc-request-links').hidden = true;
    $('#pc-actions').hidden = false;
    for (const [id, k] of [['#pc-access-hint', 'pc_access_hint'], ['#pc-access', 'pc_req_access'],
      ['#pc-access-json', 'pc_access_json'], ['#pc-object-hint', 'pc_object_hint'], ['#pc-object', 'pc_object_button'],
      ['#pc-erase-hint', 'pc_erase_hint'], ['#pc-erase', 'pc_erase_button'], ['#pc-erase-warning', 'pc_erase_warning'],
      ['#pc-erase-yes', 'pc_erase_confirm'], ['#pc-erase-cancel', 'pc_cancel'], ['#pc-mine-h', 'pc_mine'],
      ['#pc-mine-empty', 'pc_mine_empty'], ['#pc-h-ref', 'pc_ref'], ['#pc-h-kind', 'pc_kind'],
      ['#pc-h-status', 'pc_status'], ['#pc-h-due', 'pc_due']]) $(id).textContent = S(k);
    const on = (id, fn) => $(id).addEventListener('click', () => run($(id), fn));
    on('#pc-access', access);
    on('#pc-access-json', () => report('json'));
    on('#pc-object', object);
    on('#pc-erase-yes', erase);
    $('#pc-erase').addEventListener('click', () => confirming($('#pc-erase-confirm').hidden));
    $('#pc-erase-cancel').addEventListener('click', () => confirming(false));
    $('#pc-erase').parentNode.parentNode.addEventListener('keydown', (e) => {
      if (e.key == 'Escape' && !$('#pc-erase-confirm').hidden) { e.preventDefault(); confirming(false); }
    });
  }
  // Erasure asks twice, in the page: the first button shows what it means and a second button.
  function confirming(open) {
    $('#pc-erase-confirm').hidden = !open;
    $('#pc-erase').setAttribute('aria-expanded', String(open));
    (open ? $('#pc-erase-yes') : $('#pc-erase')).focus();
  }
  // One request at a time; the button keeps focus (aria-disabled, not disabled) while it runs.
  async function run(button, fn) {
    if (busy) return;
    busy = true;
    button.setAttribute('aria-disabled', 'true');
    $('#pc-actions').setAttribute('aria-busy', 'true');
    say('');
    try {
      await fn();
    } catch (e) {
      say(e.status == 404 ? S('pc_req_unknown') : e.status == 401 ? S('pc_signin') : S('pc_req_failed'));
    } finally {
      busy = false;
      button.removeAttribute('aria-disabled');
      $('#pc-actions').removeAttribute('aria-busy');
    }
  }
  const file = (kind) => api('v1/requests', {kind, subject: subject(token), channel: 'privacy_center'});

  async function access() {
    const req = await file('access');
    await report('html');
    $('#pc-access-json').hidden = false;
    say(fill(S('pc_access_done'), {id: req.request_id}));
    await mine();
  }
  async function report(format) {
    // In the language this page is in (negotiated by the server the same way for both).
    const r = await call(person() + '/report?format=' + format + '&locale=' + encodeURIComponent(cfg.locale));
    if (!r.ok) await json(r);
    save(await r.blob(), 'access-report-' + today() + '.' + format);
  }
  async function object() {
    const req = await file('object');
    await Promise.all([refresh(), mine()]);
    say(fill(S('pc_object_done'), {id: req.request_id}));
  }
  async function erase() {
    let req;
    try {
      req = await file('erase');
    } catch (e) {
      if (e.status != 409) throw e;
      // One erasure at a time: name the open one (from the list, else from the error's message).
      const open = (await mine()).find((r) => r.kind == 'erase' && ['received', 'verified', 'in_progress'].includes(r.status));
      const msg = (e.body && e.body.error && e.body.error.message) || '';
      const id = open ? open.request_id : (msg.match(/req-[0-9a-f]+/) || ['—'])[0];
      const due = open ? open.due : (msg.match(/\d{4}-\d{2}-\d{2}/) || [''])[0];
      confirming(false);
      say(fill(S('pc_erase_open'), {id, date: due ? day(due) : '—'}));
      return;
    }
    confirming(false);
    say(fill(S('pc_erase_received'), {id: req.request_id, date: day(req.due)}));
    await mine();
  }
  // The person's requests, newest first.
  async function mine() {
    const list = await api(person() + '/requests');
    const rows = list.slice().reverse().map((r) => el('tr', {'data-request-id': r.request_id},
      el('td', null, el('code', {text: r.request_id})),
      el('td', {text: S('req_' + r.kind) || r.kind}),
      el('td', {text: S('st_' + r.status) || r.status}),
      el('td', null, el('time', {datetime: r.due, text: day(r.due)}))));
    $('#pc-mine-rows').replaceChildren(...rows);
    $('#pc-mine-wrap').hidden = !rows.length;
    $('#pc-mine-empty').hidden = !!rows.length;
    return list;
  }

  main().catch((e) => {
    console.error(e);
    const s = $('#pc-status') || $('#pc-intro');
    if (cfg) { $('#pc-choices').hidden = false; s.textContent = S('error'); }
  }).finally(() => { $('main').removeAttribute('aria-busy'); D.body.classList.add('pc-ready'); });
})();
