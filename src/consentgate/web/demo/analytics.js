// A stand-in analytics tag: sets its cookie and reports a page view, like a real one would.
(() => {
  const id = Math.random().toString(36).slice(2);
  document.cookie = '_demo_analytics=' + id + ';path=/;max-age=31536000;samesite=lax';
  window.demoTags = Object.assign(window.demoTags || {}, {analytics: Date.now()});
  (window.dataLayer = window.dataLayer || []).push({event: 'demo_page_view'});
  document.dispatchEvent(new CustomEvent('demo:tag', {detail: 'analytics'}));
})();
