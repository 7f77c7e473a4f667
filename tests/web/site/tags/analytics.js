(window.ran = window.ran || []).push('analytics');
document.cookie = '_test_an=1;path=/';
document.cookie = '_test_an_id=42;path=/';
(window.dataLayer = window.dataLayer || []).push(['tag', 'analytics']);
