"""Pages on cmp.test that use the released npm packages of open-source consent platforms.

The packages are pinned in ``tests/scan/cmp/package.json`` + ``package-lock.json`` and installed
with ``npm ci`` when missing (:func:`install_packages`); their dist files are served from the
loopback site, unchanged. Each page loads the analytics tag (``http://analytics.test/ga.js``, which
sets ``_ga``) only once the platform reports consent for analytics, the way the platform's own
documentation shows: so ``_ga`` in the ``accepted`` phase, and only there, proves that the scanner
pressed that platform's "accept" button, and its absence after "reject" that it pressed "reject".
"""

from __future__ import annotations

from pathlib import Path

from tests.support.npm import npm_ci

from .site import Response

CMP_DIR = Path(__file__).parent / "cmp"
MODULES = CMP_DIR / "node_modules"
# path on cmp.test -> file in node_modules (only these are served)
DIST = {
    "/dist/vanilla/cookieconsent.umd.js": "vanilla-cookieconsent/dist/cookieconsent.umd.js",
    "/dist/vanilla/cookieconsent.css": "vanilla-cookieconsent/dist/cookieconsent.css",
    "/dist/klaro/klaro.js": "klaro/dist/klaro.js",
    "/dist/osano/cookieconsent.min.js": "cookieconsent/build/cookieconsent.min.js",
    "/dist/osano/cookieconsent.min.css": "cookieconsent/build/cookieconsent.min.css",
    "/dist/tarteaucitron/tarteaucitron.js": "tarteaucitronjs/tarteaucitron.js",
}
LOAD_GA = "function loadGa(){var s=document.createElement('script');s.src='http://analytics.test/ga.js';" \
    "document.head.appendChild(s);}"  # fmt: skip


def install_packages() -> str | None:
    """``npm ci`` the pinned packages unless they are there; the reason when that is impossible."""
    if all((MODULES / rel).is_file() for rel in DIST.values()):
        return None
    return npm_ci(CMP_DIR)


def _vanilla(necessary_on_first_layer: bool) -> str:
    reject = "acceptNecessaryBtn: 'Reject all'," if necessary_on_first_layer else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>vanilla</title>
<link rel="stylesheet" href="/dist/vanilla/cookieconsent.css">
<script src="/dist/vanilla/cookieconsent.umd.js"></script></head><body><p>vanilla-cookieconsent</p>
<script>{LOAD_GA}
CookieConsent.run({{
  categories: {{necessary: {{enabled: true, readOnly: true}}, analytics: {{}}}},
  onConsent: function () {{ if (CookieConsent.acceptedCategory('analytics')) loadGa(); }},
  language: {{default: 'en', translations: {{en: {{
    consentModal: {{title: 'We use cookies', description: 'Analytics helps us.',
                   acceptAllBtn: 'Accept all', {reject} showPreferencesBtn: 'Manage preferences'}},
    preferencesModal: {{title: 'Cookie preferences', acceptAllBtn: 'Accept all',
                       acceptNecessaryBtn: 'Reject all', savePreferencesBtn: 'Save preferences',
                       sections: [{{title: 'Analytics', description: 'Statistics.',
                                    linkedCategory: 'analytics'}}]}}
  }}}}}}
}});
</script></body></html>"""


# Klaro's "That's ok" saves each service's `default` (README example: true); scripts still wait for it.
KLARO = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>klaro</title>
<script>{LOAD_GA}
window.klaroConfig = {{
  version: 1, storageMethod: 'cookie', acceptAll: false,
  services: [{{name: 'analytics', title: 'Example Analytics', purposes: ['analytics'], default: true}}]
}};</script>
<script type="text/plain" data-type="application/javascript" data-name="analytics"
        data-src="http://analytics.test/ga.js"></script>
<script defer src="/dist/klaro/klaro.js"></script></head><body><p>Klaro</p></body></html>"""

OSANO = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>cookieconsent</title>
<link rel="stylesheet" href="/dist/osano/cookieconsent.min.css">
<script src="/dist/osano/cookieconsent.min.js"></script></head><body><p>cookieconsent</p>
<script>{LOAD_GA}
window.cookieconsent.initialise({{
  type: 'opt-in',
  onInitialise: function () {{ if (this.hasConsented()) loadGa(); }},
  onStatusChange: function () {{ if (this.hasConsented()) loadGa(); }}
}});
</script></body></html>"""

TARTEAUCITRON = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tarteaucitron</title>
<script src="/dist/tarteaucitron/tarteaucitron.js"></script></head><body><p>tarteaucitron</p>
<script>
tarteaucitron.init({hashtag: "#tarteaucitron", cookieName: "tarteaucitron", orientation: "middle",
  highPrivacy: true, AcceptAllCta: true, DenyAllCta: true, showAlertSmall: false, cookieslist: false,
  mandatory: true, useExternalCss: false});
tarteaucitron.services.exampleanalytics = {
  key: "exampleanalytics", type: "analytic", name: "Example Analytics", needConsent: true,
  uri: "https://www.example.com/privacy", cookies: ["_ga", "_gid"],
  js: function () { tarteaucitron.addScript("http://analytics.test/ga.js"); }
};
(tarteaucitron.job = tarteaucitron.job || []).push("exampleanalytics");
</script></body></html>"""
TARTEAUCITRON_DIR = MODULES / "tarteaucitronjs"


PAGES = {
    "/vanilla/": _vanilla(necessary_on_first_layer=True),
    "/vanilla-second-layer/": _vanilla(necessary_on_first_layer=False),
    "/klaro/": KLARO,
    "/cookieconsent/": OSANO,
    "/tarteaucitron/": TARTEAUCITRON,
}


def cmp_route(path: str) -> Response:
    if path.startswith("/dist/tarteaucitron/"):  # it loads its languages and services itself
        file = (TARTEAUCITRON_DIR / path.removeprefix("/dist/tarteaucitron/")).resolve()
        if file.is_relative_to(TARTEAUCITRON_DIR.resolve()) and file.is_file():
            kind = "text/css" if path.endswith(".css") else "application/javascript"
            return Response(200, file.read_text(encoding="utf-8"), kind)
    if path in DIST:
        file = MODULES / DIST[path]
        kind = "text/css" if path.endswith(".css") else "application/javascript"
        return Response(200, file.read_text(encoding="utf-8"), kind)
    if path in PAGES:
        return Response(200, PAGES[path])
    return Response(404, "not found", "text/plain")
