(window.ran = window.ran || []).push('marketing');
document.cookie = '_test_mk=1;path=/';
(window.dataLayer = window.dataLayer || []).push(['tag', 'marketing']);
