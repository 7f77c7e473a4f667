// Stands in for Google's tag loaded ungated (Consent Mode advanced mode): it records what it found.
window.dataLayer = window.dataLayer || [];
window.googleSaw = window.dataLayer.filter((e) => e[0] === 'consent').map((e) => e[1]);
window.dataLayer.push(['tag', 'google']);
