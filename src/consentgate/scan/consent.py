"""Finding and pressing a site's "accept all" or "reject all" button.

In order: consentgate's own banner (``#consentgate-banner [data-consentgate-action=…]``), the
buttons of widespread consent management platforms by their stable ids and classes, and then any
visible button or link whose text is one of the usual labels in English, German, French, Spanish,
Italian or Dutch. Every frame of the page is searched (several platforms render into an iframe), and
open shadow roots too. Selectors of other platforms are published in their own documentation and in
the rule sets of consent-automation tools; they change, so the text fallback matters.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

OWN_BANNER = "#consentgate-banner"

# action -> selectors (first visible one wins)
CMP_SELECTORS: dict[str, list[tuple[str, str]]] = {
    "accept": [
        ("onetrust", "#onetrust-accept-btn-handler"),
        ("cookiebot", "#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll"),
        ("cookiebot", "#CybotCookiebotDialogBodyButtonAccept"),
        ("didomi", "#didomi-notice-agree-button"),
        ("usercentrics", "[data-testid='uc-accept-all-button']"),
        ("trustarc", "#truste-consent-button"),
        ("quantcast", ".qc-cmp2-summary-buttons button[mode='primary']"),
        ("complianz", ".cmplz-btn.cmplz-accept"),
        ("cookieyes", ".cky-btn-accept"),
        ("osano", ".osano-cm-accept-all"),
        ("iubenda", ".iubenda-cs-accept-btn"),
        ("termly", "[data-tid='banner-accept']"),
        ("civic", "#ccc-notify-accept"),
        ("klaro", ".cm-btn-accept-all"),
        ("cookieconsent", ".cc-allow"),
        ("cookieconsent", "[data-cc='accept-all']"),
        ("cookieconsent", ".cm__btn[data-role='all']"),
        ("borlabs", "a._brlbs-btn-accept-all"),
        ("axeptio", "#axeptio_btn_acceptAll"),
        ("sourcepoint", "button.sp_choice_type_11"),
    ],
    "reject": [
        ("onetrust", "#onetrust-reject-all-handler"),
        ("cookiebot", "#CybotCookiebotDialogBodyButtonDecline"),
        ("didomi", "#didomi-notice-disagree-button"),
        ("usercentrics", "[data-testid='uc-deny-all-button']"),
        ("trustarc", "#truste-consent-required"),
        ("quantcast", ".qc-cmp2-summary-buttons button[mode='secondary']"),
        ("complianz", ".cmplz-btn.cmplz-deny"),
        ("cookieyes", ".cky-btn-reject"),
        ("osano", ".osano-cm-denyAll"),
        ("iubenda", ".iubenda-cs-reject-btn"),
        ("termly", "[data-tid='banner-decline']"),
        ("civic", "#ccc-notify-reject"),
        ("klaro", ".cn-decline"),
        ("cookieconsent", ".cc-deny"),
        ("cookieconsent", "[data-cc='accept-necessary']"),
        ("cookieconsent", ".cm__btn[data-role='necessary']"),
        ("borlabs", "a._brlbs-refuse-btn"),
        ("axeptio", "#axeptio_btn_dismiss"),
        ("sourcepoint", "button.sp_choice_type_13"),
    ],
}

# Labels, best first; compared lower-cased with whitespace collapsed.
LABELS: dict[str, list[str]] = {
    "accept": [
        "accept all", "accept all cookies", "allow all", "allow all cookies", "accept cookies",
        "accept", "i accept", "agree", "i agree", "agree and continue", "accept and continue",
        "alle akzeptieren", "alle cookies akzeptieren", "alle zulassen", "akzeptieren", "zustimmen",
        "tout accepter", "accepter tout", "accepter et continuer", "accepter", "j'accepte",
        "aceptar todo", "aceptar todas", "aceptar todas las cookies", "aceptar",
        "accetta tutto", "accetta tutti", "accetta", "alles accepteren", "accepteren",
        "ok", "got it",
    ],
    "reject": [
        "reject all", "reject all cookies", "decline all", "deny all", "refuse all", "reject",
        "decline", "deny", "refuse", "reject cookies", "decline cookies", "only necessary",
        "necessary only", "only essential", "essential only", "only necessary cookies",
        "use necessary cookies only", "allow necessary cookies only", "continue without accepting",
        "alle ablehnen", "ablehnen", "nur notwendige", "nur notwendige cookies", "nur essenzielle",
        "nur essenzielle cookies", "tout refuser", "refuser tout", "refuser",
        "continuer sans accepter", "rechazar todo", "rechazar todas", "rechazar",
        "rifiuta tutto", "rifiuta", "alles weigeren", "weigeren",
    ],
}  # fmt: skip

_FIND_BY_TEXT = """
(labels) => {
  const norm = (s) => (s || "").replace(/\\s+/g, " ").trim().toLowerCase();
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const st = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && st.visibility !== "hidden" && st.display !== "none";
  };
  const sel = "button, a, [role=button], input[type=button], input[type=submit]";
  const found = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll(sel)) found.push(el);
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document);
  let best = null, bestScore = Infinity;
  for (const el of found) {
    const text = norm(el.innerText || el.value || el.getAttribute("aria-label") || "");
    if (!text || text.length > 60) continue;
    const i = labels.indexOf(text);
    if (i >= 0 && i < bestScore && visible(el)) { best = el; bestScore = i; }
  }
  return best;
}
"""


@dataclass(frozen=True)
class ConsentClick:
    """What was pressed: ``via`` is consentgate, a platform name, or ``text``."""

    action: str
    via: str
    selector: str
    frame: str

    def as_json(self) -> dict[str, str]:
        return {"action": self.action, "via": self.via, "selector": self.selector, "frame": self.frame}


async def _visible(locator: Any) -> bool:
    try:
        return bool(await locator.is_visible())
    except Exception:  # a frame that navigated or detached in the meantime
        return False


async def _try_frame(frame: Any, action: str) -> tuple[Any, str, str] | None:
    own = f'{OWN_BANNER} [data-consentgate-action="{action}-all"]'
    candidates = [("consentgate", own)] + CMP_SELECTORS[action]
    for via, selector in candidates:
        loc = frame.locator(selector).first
        if await _visible(loc):
            return loc, via, selector
    try:
        handle = await frame.evaluate_handle(_FIND_BY_TEXT, LABELS[action])
    except Exception:
        return None
    element = handle.as_element()
    if element is None:
        return None
    label = " ".join((await element.inner_text()).split()) or (await element.get_attribute("value")) or ""
    return element, "text", f'text="{label}"'


async def press(page: Any, action: str, timeout_s: float) -> ConsentClick | None:
    """Find and click the ``action`` (``accept`` or ``reject``) button within ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        frames = [page.main_frame] + [f for f in page.frames if f is not page.main_frame]
        for frame in frames:
            hit = await _try_frame(frame, action)
            if hit is None:
                continue
            target, via, selector = hit
            try:
                await target.click(timeout=3000)
            except Exception:
                continue  # covered or detached; try the next frame, then poll again
            return ConsentClick(action, via, selector, frame.url)
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(0.2)
