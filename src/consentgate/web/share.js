/* consentgate share.js — consent shared across a site group's domains (policy web.share; docs/web.md).
   Embed before banner.js: <script src="https://HOST/share.js"></script>. Served only while web.share is set.
   A link to another domain of the group carries a one-time hand-off in its fragment (#cg_handoff=…,
   never sent to a server nor in Referer); the banner there redeems it and applies the choice without
   asking again. No third-party cookies: browsers partition them by site. */
((G) => {
  'use strict';
  const W = window, D = document, L = location, me = D.currentScript;
  const base = me.src.replace(/[^/]*$/, '');
  const domainOf = (h) => G.find((d) => h == d || h.endsWith('.' + d));
  const here = domainOf(L.hostname);
  // Taken out of the address at once, so a reload, a bookmark or a shared link never carries it.
  const m = L.hash.match(/[#&]cg_handoff=([^&]+)/);
  const arrived = m && decodeURIComponent(m[1]);
  if (m) history.replaceState(null, '', L.href.replace(/[#&]cg_handoff=[^&]+/, '').replace(/#$/, ''));
  let api = null;
  const call = async (path, body) => {
    const r = await fetch(base + 'v1/share/' + path, {method: 'POST', headers: api.headers(), body: JSON.stringify(body), credentials: 'include'});
    const j = await r.json();
    if (!r.ok) throw new Error('consentgate share: ' + (j.error && j.error.message || r.status));
    return j;
  };
  // The line "Your choices apply on these sites: …", added to every banner the page shows.
  const line = (root) => {
    if (root.querySelector('.cg-share')) return;
    const p = D.createElement('p');
    p.className = 'cg-share';
    // Styled here, not in banner.css: the default banner's bytes stay for sites without a group.
    Object.assign(p.style, {margin: '0 0 .75rem', fontSize: '.875rem', color: '#444'});
    p.textContent = api.cfg.strings.share_covers + ': ' + new Intl.ListFormat(api.cfg.locale, {type: 'unit'}).format(G);
    root.querySelector('.cg-foot').prepend(p); // in the sticky footer: seen beside the buttons it applies to
  };
  // Called by banner.js once its configuration is in, before it decides whether to ask.
  W.consentgateShare = async (a) => {
    api = a;
    new MutationObserver(() => { const b = D.getElementById('consentgate-banner'); if (b) line(b); })
      .observe(D.documentElement, {childList: true, subtree: true});
    if (!arrived || !here) return;
    const r = await call('redeem', {handoff: arrived, visitor_id: await a.visitor(), region: a.cfg.region || undefined});
    // The person's choices as if made here (a cookie on this domain), never a second record.
    const {P, store, cfg} = a;
    for (const id in r.purposes) {
      const p = P[id], v = p && cfg.notices[p.notice].version, s = r.purposes[id];
      if (v && p.ask && s.chosen) { store.c[id] = [s.allowed ? 1 : 0, Date.now(), v]; store.n[p.notice] = v; }
    }
    a.write();
  };
  const chosen = () => !api.queue.length && Object.keys(api.store.c).length > 0;
  // A click on a link to another domain of the group: ask for a hand-off, then follow the link with it.
  D.addEventListener('click', async (e) => {
    const a = e.target.closest && e.target.closest('a[href]');
    if (!a || !api || !chosen() || e.defaultPrevented || e.button || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    const u = new URL(a.href, L.href), to = domainOf(u.hostname);
    if (!to || to == here || !/^https?:$/.test(u.protocol)) return;
    e.preventDefault();
    try {
      const h = await call('handoff', {visitor_id: await api.visitor(), target: u.hostname});
      u.hash = (u.hash ? u.hash + '&' : '') + 'cg_handoff=' + encodeURIComponent(h.handoff);
    } catch (err) { console.error(err); } // the link still works; the other domain asks again
    L.assign(u.href);
  });
})(/*SHARE*/null);
