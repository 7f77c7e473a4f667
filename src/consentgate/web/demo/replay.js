// A stand-in session-replay tag: records (here: counts) clicks under its own cookie.
(() => {
  document.cookie = '_demo_replay=' + Date.now() + ';path=/;max-age=31536000;samesite=lax';
  window.demoTags = Object.assign(window.demoTags || {}, {replay: Date.now()});
  let clicks = 0;
  document.addEventListener('click', () => { clicks += 1; window.demoReplayClicks = clicks; });
  document.dispatchEvent(new CustomEvent('demo:tag', {detail: 'replay'}));
})();
