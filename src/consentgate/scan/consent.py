"""Finding and pressing a site's "accept all" or "reject all" button, on the first or second layer.

In order: consentgate's own banner (``#consentgate-banner [data-consentgate-action=…]``), the
buttons of widespread consent management platforms by their stable ids, classes and data attributes,
and then any visible button or link whose text is one of the usual labels — the page's language
(``<html lang>``) first, then the others. Every frame is searched (several platforms render into an
iframe), and open shadow roots too. When the first layer offers no reject button (a common dark
pattern), the scanner opens the settings layer ("Manage preferences", "Let me choose") and presses
"reject all", "only necessary" or, failing those, "save" with everything left off, as a person who
declines would. Selectors of other platforms are published in their own documentation and in the
rule sets of consent-automation tools; they change, so the text fallback matters.

Every attempt ends in a :class:`BannerOutcome` — whether a banner was found at all, whether the
button was pressed, and every step taken — so a phase that saw no choice is reported, never hidden.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

OWN_BANNER = "#consentgate-banner"

# A visible one of these means a consent banner is on the page, even if no button of it could be used.
BANNERS: list[tuple[str, str]] = [
    ("consentgate", OWN_BANNER),
    ("onetrust", "#onetrust-banner-sdk"),
    ("cookiebot", "#CybotCookiebotDialog"),
    ("didomi", "#didomi-notice"),
    ("usercentrics", "#usercentrics-root"),
    ("quantcast", ".qc-cmp2-container"),
    ("complianz", ".cmplz-cookiebanner"),
    ("cookieyes", ".cky-consent-container"),
    ("osano", ".osano-cm-window"),
    ("iubenda", "#iubenda-cs-banner"),
    ("klaro", ".klaro .cookie-notice"),
    ("klaro", ".klaro .cookie-modal"),
    ("cookieconsent", ".cc-window"),
    ("vanilla-cookieconsent", "#cc-main .cm"),
    ("vanilla-cookieconsent", "#cc-main .pm"),
    ("borlabs", "#BorlabsCookieBox"),
    ("tarteaucitron", "#tarteaucitronAlertBig"),
    ("axeptio", "#axeptio_overlay"),
]

# action -> selectors of the first layer (first visible one wins)
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
        ("klaro", ".klaro .cookie-notice .cm-btn-success"),
        ("klaro", ".klaro .cm-btn-accept-all"),
        ("cookieconsent", ".cc-window .cc-allow"),
        ("vanilla-cookieconsent", "#cc-main .cm__btn[data-role='all']"),
        ("cookieconsent", "[data-cc='accept-all']"),
        ("borlabs", "a._brlbs-btn-accept-all"),
        ("tarteaucitron", "#tarteaucitronPersonalize2"),
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
        ("klaro", ".klaro .cn-decline"),
        ("cookieconsent", ".cc-window .cc-deny"),
        ("vanilla-cookieconsent", "#cc-main .cm__btn[data-role='necessary']"),
        ("cookieconsent", "[data-cc='accept-necessary']"),
        ("borlabs", "a._brlbs-refuse-btn"),
        ("tarteaucitron", "#tarteaucitronAllDenied2"),
        ("axeptio", "#axeptio_btn_dismiss"),
        ("sourcepoint", "button.sp_choice_type_13"),
    ],
}
# The button that opens the second layer (preferences), and that layer's buttons.
SETTINGS_SELECTORS: list[tuple[str, str]] = [
    ("onetrust", "#onetrust-pc-btn-handler"),
    ("cookiebot", "#CybotCookiebotDialogBodyLevelButtonCustomize"),
    ("didomi", "#didomi-notice-learn-more-button"),
    ("usercentrics", "[data-testid='uc-more-button']"),
    ("complianz", ".cmplz-btn.cmplz-view-preferences"),
    ("cookieyes", ".cky-btn-customize"),
    ("klaro", ".klaro .cookie-notice .cn-learn-more"),
    ("vanilla-cookieconsent", "#cc-main .cm__btn[data-role='show']"),
    ("cookieconsent", "[data-cc='show-preferencesModal']"),
    ("tarteaucitron", "#tarteaucitronCloseAlert"),
]
SECOND_LAYER: dict[str, list[tuple[str, str]]] = {
    "accept": [
        ("onetrust", "#accept-recommended-btn-handler"),
        ("didomi", "#btn-toggle-agree"),
        ("klaro", ".klaro .cookie-modal .cm-btn-accept-all"),
        ("vanilla-cookieconsent", "#cc-main .pm__btn[data-role='all']"),
        ("tarteaucitron", "#tarteaucitronAllAllowed"),
    ],
    "reject": [
        ("onetrust", ".ot-pc-refuse-all-handler"),
        ("onetrust", "#onetrust-pc-sdk .save-preference-btn-handler"),
        ("cookiebot", "#CybotCookiebotDialogBodyButtonDecline"),
        ("didomi", "#btn-toggle-disagree"),
        ("usercentrics", "[data-testid='uc-deny-all-button']"),
        ("complianz", ".cmplz-btn.cmplz-save-preferences"),
        ("cookieyes", ".cky-btn-preferences"),
        ("klaro", ".klaro .cookie-modal .cm-btn-decline"),
        ("vanilla-cookieconsent", "#cc-main .pm__btn[data-role='necessary']"),
        ("vanilla-cookieconsent", "#cc-main .pm__btn[data-role='save']"),
        ("tarteaucitron", "#tarteaucitronAllDenied"),
    ],
}

# Labels per language, best first; compared lower-cased, whitespace collapsed, curly quotes as '.
LABELS: dict[str, dict[str, list[str]]] = {
    "accept": {
        "en": ["accept all", "accept all cookies", "allow all", "allow all cookies", "accept cookies",
               "accept", "i accept", "agree", "i agree", "agree and continue", "accept and continue",
               "that's ok", "ok", "got it", "allow cookies", "yes, i agree"],
        "de": ["alle akzeptieren", "alle cookies akzeptieren", "alle zulassen", "akzeptieren", "zustimmen",
               "alle annehmen", "annehmen", "das ist ok", "einverstanden", "ich stimme zu"],
        "fr": ["tout accepter", "accepter tout", "accepter et continuer", "accepter", "j'accepte",
               "accepter les cookies", "c'est ok"],
        "es": ["aceptar todo", "aceptar todas", "aceptar todas las cookies", "aceptar", "de acuerdo"],
        "it": ["accetta tutto", "accetta tutti", "accetta", "accetto"],
        "nl": ["alles accepteren", "accepteren", "alle cookies accepteren", "akkoord"],
        "pt": ["aceitar tudo", "aceitar todos", "aceitar", "concordo"],
        "pl": ["zaakceptuj wszystkie", "akceptuję", "zgadzam się"],
    },
    "reject": {
        "en": ["reject all", "reject all cookies", "decline all", "deny all", "refuse all", "reject",
               "decline", "i decline", "deny", "refuse", "reject cookies", "decline cookies",
               "only necessary", "necessary only", "only essential", "essential only",
               "only necessary cookies", "use necessary cookies only", "allow necessary cookies only",
               "accept only necessary", "accept necessary", "continue without accepting"],
        "de": ["alle ablehnen", "ablehnen", "ich lehne ab", "nur notwendige", "nur notwendige cookies",
               "nur essenzielle", "nur essenzielle cookies", "nur erforderliche cookies"],
        "fr": ["tout refuser", "refuser tout", "refuser", "je refuse", "continuer sans accepter"],
        "es": ["rechazar todo", "rechazar todas", "rechazar", "solo necesarias"],
        "it": ["rifiuta tutto", "rifiuta", "rifiuto", "solo necessari"],
        "nl": ["alles weigeren", "weigeren", "alleen noodzakelijke"],
        "pt": ["rejeitar tudo", "rejeitar", "recusar"],
        "pl": ["odrzuć wszystkie", "odrzuć"],
    },
    "settings": {
        "en": ["manage preferences", "manage cookies", "cookie settings", "settings", "customize",
               "customise", "let me choose", "more options", "preferences", "manage options", "options"],
        "de": ["einstellungen", "cookie-einstellungen", "anpassen", "mehr optionen", "lass mich wählen"],
        "fr": ["paramétrer", "personnaliser", "paramètres", "gérer mes choix", "plus d'options"],
        "es": ["configurar", "personalizar", "configuración", "más opciones"],
        "it": ["impostazioni", "personalizza", "gestisci preferenze"],
        "nl": ["instellingen", "aanpassen", "voorkeuren"],
        "pt": ["configurações", "personalizar", "definições"],
        "pl": ["ustawienia", "dostosuj"],
    },
    "save": {  # on the second layer, with every optional purpose left off
        "en": ["save", "save settings", "save preferences", "save my choices", "confirm my choices",
               "save and close", "save & exit", "confirm choices"],
        "de": ["auswahl speichern", "speichern", "einstellungen speichern", "auswahl bestätigen"],
        "fr": ["enregistrer", "enregistrer mes choix", "valider mes choix", "confirmer mes choix"],
        "es": ["guardar", "guardar configuración", "confirmar mis preferencias"],
        "it": ["salva", "salva impostazioni", "conferma le mie scelte"],
        "nl": ["opslaan", "keuze opslaan"],
        "pt": ["guardar", "salvar", "confirmar escolhas"],
        "pl": ["zapisz", "zapisz ustawienia"],
    },
}  # fmt: skip

_LANG = "() => (document.documentElement.lang || navigator.language || '').slice(0, 2).toLowerCase()"
_FIND_BY_TEXT = """
(labels) => {
  const norm = (s) => (s || "").replace(/[\\u2019\\u2018]/g, "'").replace(/\\s+/g, " ").trim()
    .toLowerCase();
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


_FIND_BY_SELECTOR = """
(selectors) => {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const st = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && st.visibility !== "hidden" && st.display !== "none";
  };
  const roots = [];
  const walk = (root) => {
    roots.push(root);
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document);
  for (let index = 0; index < selectors.length; index++) {
    for (const root of roots) {
      let matches = [];
      try { matches = root.querySelectorAll(selectors[index]); } catch (e) { continue; }
      for (const element of matches) if (visible(element)) return {index, element};
    }
  }
  return null;
}
"""


@dataclass(frozen=True)
class BannerOutcome:
    """What became of one attempt to give a choice: ``via`` is consentgate, a platform name or ``text``.

    ``found`` says a banner (or a button of one) was visible; ``pressed`` that the final button was
    clicked; ``layer`` is 2 when it sat behind a settings button; ``steps`` lists every click made.
    """

    action: str
    found: bool
    pressed: bool
    via: str | None = None
    selector: str | None = None
    frame: str | None = None
    layer: int = 1
    steps: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "found": self.found,
            "pressed": self.pressed,
            "via": self.via,
            "selector": self.selector,
            "frame": self.frame,
            "layer": self.layer,
            "steps": list(self.steps),
        }


def labels_for(kind: str, lang: str) -> list[str]:
    """The labels of ``kind``, the page's language first (a "Decline" means something else elsewhere)."""
    table = LABELS[kind]
    first = table.get(lang, [])
    return first + [label for code, group in table.items() if code != lang for label in group]


async def _by_selector(frame: Any, candidates: list[tuple[str, str]]) -> tuple[Any, str, str] | None:
    """The first candidate with a visible element, in one round trip to the page (a check per
    selector took ~60 round trips per poll, which under load delayed the consent phases' start)."""
    try:
        handle = await frame.evaluate_handle(_FIND_BY_SELECTOR, [sel for _, sel in candidates])
        found = await handle.evaluate("(r) => r && r.index")
        element = await handle.evaluate_handle("(r) => r && r.element")
    except Exception:  # a frame that navigated or detached in the meantime
        return None
    target = element.as_element()
    if target is None or found is None:
        return None
    via, selector = candidates[int(found)]
    return target, via, selector


async def _by_text(frame: Any, labels: list[str]) -> tuple[Any, str, str] | None:
    try:
        handle = await frame.evaluate_handle(_FIND_BY_TEXT, labels)
    except Exception:
        return None
    element = handle.as_element()
    if element is None:
        return None
    try:
        label = " ".join((await element.inner_text()).split()) or (await element.get_attribute("value")) or ""
    except Exception:
        return None
    return element, "text", f'text="{label}"'


async def _lang(frame: Any) -> str:
    try:
        return str(await frame.evaluate(_LANG))
    except Exception:
        return ""


class _Search:
    """One frame's candidates for each kind of button, own banner and platforms before text."""

    def __init__(self, frame: Any, action: str, lang: str) -> None:
        self.frame, self.action, self.lang = frame, action, lang

    async def first_layer(self) -> tuple[Any, str, str] | None:
        own = [("consentgate", f'{OWN_BANNER} [data-consentgate-action="{self.action}-all"]')]
        return await _by_selector(self.frame, own + CMP_SELECTORS[self.action]) or await _by_text(
            self.frame, labels_for(self.action, self.lang)
        )

    async def settings(self) -> tuple[Any, str, str] | None:
        return await _by_selector(self.frame, SETTINGS_SELECTORS) or await _by_text(
            self.frame, labels_for("settings", self.lang)
        )

    async def second_layer(self) -> tuple[Any, str, str] | None:
        found = await _by_selector(self.frame, SECOND_LAYER[self.action])
        if found is None:
            found = await _by_text(self.frame, labels_for(self.action, self.lang))
        if found is None and self.action == "reject":
            found = await _by_text(self.frame, labels_for("save", self.lang))
        return found

    async def banner(self) -> bool:
        """A known banner, or the opposite choice's button (a banner with "Accept" and "Settings")."""
        if await _by_selector(self.frame, BANNERS) is not None:
            return True
        other = "reject" if self.action == "accept" else "accept"
        return await _Search(self.frame, other, self.lang).first_layer() is not None


async def _click(target: Any) -> bool:
    try:
        await target.click(timeout=3000)
    except Exception:  # covered or detached; the caller tries the next candidate, then polls again
        return False
    return True


async def press(page: Any, action: str, timeout_s: float) -> BannerOutcome:
    """Find and click the ``action`` (``accept`` or ``reject``) button within ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    found = False
    steps: list[str] = []
    while True:
        frames = [page.main_frame] + [f for f in page.frames if f is not page.main_frame]
        for frame in frames:
            search = _Search(frame, action, await _lang(frame))
            hit = await search.first_layer()
            if hit is not None:
                found = True
                target, via, selector = hit
                if await _click(target):
                    steps.append(f"{via}: {selector}")
                    return BannerOutcome(action, True, True, via, selector, frame.url, 1, tuple(steps))
                continue
            found = found or await search.banner()
            opener = await search.settings() if found else None
            if opener is not None and await _click(opener[0]):
                steps.append(f"{opener[1]}: {opener[2]}")
                outcome = await _second_layer(search, action, deadline, steps)
                if outcome is not None:
                    return outcome
        if time.monotonic() >= deadline:
            return BannerOutcome(action, found, False, steps=tuple(steps))
        await asyncio.sleep(0.2)


async def _second_layer(
    search: _Search, action: str, deadline: float, steps: list[str]
) -> BannerOutcome | None:
    """Press the button of the layer the settings button opened (it may animate in)."""
    while True:
        hit = await search.second_layer()
        if hit is not None and await _click(hit[0]):
            _, via, selector = hit
            steps.append(f"{via}: {selector}")
            return BannerOutcome(action, True, True, via, selector, search.frame.url, 2, tuple(steps))
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(0.2)
