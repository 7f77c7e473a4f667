// The demo page's own script (no inline code: the page runs under the service's strict CSP).
(() => {
  'use strict';
  const $ = (s) => document.querySelector(s);
  const show = () => {
    $('#cookies').textContent = document.cookie.split(/;\s*/).filter(Boolean)
      .map((c) => (c.startsWith('cg_consent=') ? 'cg_consent=… (the banner\'s record of your choice)' : c))
      .join('\n') || '(none)';
    $('#consent-mode').textContent = (window.dataLayer || [])
      .filter((c) => c[0] === 'consent')
      .map((c) => c[1] + ' ' + JSON.stringify(c[2]))
      .join('\n');
    const tags = window.demoTags || {};
    for (const name of ['analytics', 'replay', 'chat']) {
      const cell = $('#tag-' + name);
      cell.textContent = tags[name] ? 'running (since ' + new Date(tags[name]).toLocaleTimeString() + ')' : 'held back';
      cell.className = tags[name] ? 'on' : '';
    }
  };
  window.consentgate.onChange((state) => {
    $('#state').textContent = Object.entries(state.allowed).map(([p, on]) => (on ? '✔ ' : '✘ ') + p).join('\n') +
      '\nregion: ' + (state.region || 'unknown (policy default)') + (state.gpc ? '\nGlobal Privacy Control honoured' : '');
    setTimeout(show, 50); // tags start asynchronously
  });
  document.addEventListener('demo:tag', show);
  setInterval(show, 1000);
  show();

  // "Sign in": the demo's stand-in for a site's login. A real backend mints the subject token for the
  // account it just authenticated (consentgate tokens issue, or consentgate.client.issue_subject_token).
  const signedIn = (session) => {
    $('#who').textContent = 'signed in as ' + session.subject.slice(0, 18) + '…';
    $('#pc-link').href = '/privacy-center#token=' + encodeURIComponent(session.token);
    $('#signin').hidden = true;
    return window.consentgate.identify(session.token);
  };
  const saved = sessionStorage.getItem('demo-session');
  if (saved) signedIn(JSON.parse(saved));
  $('#signin').addEventListener('click', async () => {
    const r = await fetch('/demo/session', {method: 'POST', credentials: 'include'});
    const session = await r.json();
    sessionStorage.setItem('demo-session', JSON.stringify(session));
    await signedIn(session);
  });
})();
