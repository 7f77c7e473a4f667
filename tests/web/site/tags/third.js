(window.ran = window.ran || []).push('third-' + new URL(document.currentScript.src).searchParams.get('n'));
