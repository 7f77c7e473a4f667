"""The cookie declaration: what the site sets, grouped by category, in the visitor's language.

Built from a scan document, as an HTML snippet (to embed in a privacy page; no styles of its own,
classes prefixed ``cg-``) or as Markdown. Headings, column names and durations are translated
(en, de, fr, es; anything else falls back to English); descriptions come from the policy's
``web.cookies`` or from the Open Cookie Database, which is English.
"""

from __future__ import annotations

from html import escape
from typing import Any

from consentgate.scan.knowledge import ORDER

LANGUAGES = ("en", "de", "fr", "es")

T: dict[str, dict[str, str]] = {
    "en": {
        "title": "Cookie declaration",
        "scanned": "Last checked {date}.",
        "name": "Name", "provider": "Provider", "purpose": "Purpose", "duration": "Duration", "type": "Type",
        "necessary": "Strictly necessary",
        "necessary.intro": "Needed for the site to work; set without asking for consent.",
        "security": "Security",
        "security.intro": "Protect the site and its visitors; set without asking for consent.",
        "functional": "Functional",
        "functional.intro": "Extra features such as chat or session recording; set only with your consent.",
        "personalisation": "Preferences",
        "personalisation.intro": "Remember your choices; set only with your consent.",
        "analytics": "Statistics",
        "analytics.intro": "Help us understand how the site is used; set only with your consent.",
        "marketing": "Marketing",
        "marketing.intro": "Used to show and measure advertising; set only with your consent.",
        "unknown": "Not yet classified",
        "unknown.intro": "We are reviewing these.",
        "session": "Session", "cookie": "HTTP cookie",
        "localStorage": "Local storage", "sessionStorage": "Session storage", "indexedDB": "IndexedDB",
        "this site": "this site", "none": "This site sets no cookies.",
        "second": "second", "seconds": "seconds", "minute": "minute", "minutes": "minutes",
        "hour": "hour", "hours": "hours", "day": "day", "days": "days",
        "month": "month", "months": "months", "year": "year", "years": "years",
        "persistent": "Persistent",
    },
    "de": {
        "title": "Cookie-Erklärung",
        "scanned": "Zuletzt geprüft am {date}.",
        "name": "Name", "provider": "Anbieter", "purpose": "Zweck", "duration": "Speicherdauer",
        "type": "Typ",
        "necessary": "Unbedingt erforderlich",
        "necessary.intro": "Für den Betrieb der Website nötig; ohne Einwilligung gesetzt.",
        "security": "Sicherheit",
        "security.intro": "Schützen die Website und ihre Besucher; ohne Einwilligung gesetzt.",
        "functional": "Funktional",
        "functional.intro": "Chat, Sitzungsaufzeichnung und andere Funktionen; nur mit Einwilligung.",
        "personalisation": "Präferenzen",
        "personalisation.intro": "Merken sich Ihre Einstellungen; nur mit Ihrer Einwilligung.",
        "analytics": "Statistik",
        "analytics.intro": "Helfen zu verstehen, wie die Website genutzt wird; nur mit Ihrer Einwilligung.",
        "marketing": "Marketing",
        "marketing.intro": "Für Werbung und deren Messung; nur mit Ihrer Einwilligung.",
        "unknown": "Noch nicht eingeordnet",
        "unknown.intro": "Diese prüfen wir noch.",
        "session": "Sitzung", "cookie": "HTTP-Cookie",
        "localStorage": "Lokaler Speicher", "sessionStorage": "Sitzungsspeicher", "indexedDB": "IndexedDB",
        "this site": "diese Website", "none": "Diese Website setzt keine Cookies.",
        "second": "Sekunde", "seconds": "Sekunden", "minute": "Minute", "minutes": "Minuten",
        "hour": "Stunde", "hours": "Stunden", "day": "Tag", "days": "Tage",
        "month": "Monat", "months": "Monate", "year": "Jahr", "years": "Jahre",
        "persistent": "Dauerhaft",
    },
    "fr": {
        "title": "Déclaration relative aux cookies",
        "scanned": "Dernière vérification le {date}.",
        "name": "Nom", "provider": "Fournisseur", "purpose": "Finalité", "duration": "Durée", "type": "Type",
        "necessary": "Strictement nécessaires",
        "necessary.intro": "Indispensables au fonctionnement du site ; déposés sans consentement.",
        "security": "Sécurité",
        "security.intro": "Protègent le site et ses visiteurs ; déposés sans consentement.",
        "functional": "Fonctionnels",
        "functional.intro": "Chat, enregistrement de session et autres fonctions ; avec votre consentement.",
        "personalisation": "Préférences",
        "personalisation.intro": "Mémorisent vos choix ; déposés uniquement avec votre consentement.",
        "analytics": "Mesure d'audience",
        "analytics.intro": "Nous aident à comprendre l'usage du site ; uniquement avec votre consentement.",
        "marketing": "Publicité",
        "marketing.intro": "Servent à afficher et mesurer la publicité ; uniquement avec votre consentement.",
        "unknown": "Pas encore classés",
        "unknown.intro": "Nous les examinons.",
        "session": "Session", "cookie": "Cookie HTTP",
        "localStorage": "Stockage local", "sessionStorage": "Stockage de session", "indexedDB": "IndexedDB",
        "this site": "ce site", "none": "Ce site ne dépose aucun cookie.",
        "second": "seconde", "seconds": "secondes", "minute": "minute", "minutes": "minutes",
        "hour": "heure", "hours": "heures", "day": "jour", "days": "jours",
        "month": "mois", "months": "mois", "year": "an", "years": "ans",
        "persistent": "Persistant",
    },
    "es": {
        "title": "Declaración de cookies",
        "scanned": "Última comprobación: {date}.",
        "name": "Nombre", "provider": "Proveedor", "purpose": "Finalidad", "duration": "Duración",
        "type": "Tipo",
        "necessary": "Estrictamente necesarias",
        "necessary.intro": "Imprescindibles para que el sitio funcione; se instalan sin consentimiento.",
        "security": "Seguridad",
        "security.intro": "Protegen el sitio y a sus visitantes; se instalan sin consentimiento.",
        "functional": "Funcionales",
        "functional.intro": "Chat, grabación de sesiones y otras funciones; solo con su consentimiento.",
        "personalisation": "Preferencias",
        "personalisation.intro": "Recuerdan sus elecciones; solo con su consentimiento.",
        "analytics": "Estadísticas",
        "analytics.intro": "Nos ayudan a entender cómo se usa el sitio; solo con su consentimiento.",
        "marketing": "Marketing",
        "marketing.intro": "Sirven para mostrar y medir publicidad; solo con su consentimiento.",
        "unknown": "Sin clasificar",
        "unknown.intro": "Las estamos revisando.",
        "session": "Sesión", "cookie": "Cookie HTTP",
        "localStorage": "Almacenamiento local", "sessionStorage": "Almacenamiento de sesión",
        "indexedDB": "IndexedDB",
        "this site": "este sitio", "none": "Este sitio no instala cookies.",
        "second": "segundo", "seconds": "segundos", "minute": "minuto", "minutes": "minutos",
        "hour": "hora", "hours": "horas", "day": "día", "days": "días",
        "month": "mes", "months": "meses", "year": "año", "years": "años",
        "persistent": "Persistente",
    },
}  # fmt: skip

_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))


def pick_language(requested: str | None) -> str:
    """The first supported language of a locale or an Accept-Language header; English otherwise."""
    if not requested:
        return "en"
    weighted = []
    for i, part in enumerate(requested.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        weighted.append((-q, i, tag.strip().replace("_", "-").split("-")[0].lower()))
    for _, _, lang in sorted(weighted):
        if lang in LANGUAGES:
            return lang
    return "en"


def duration(item: dict[str, Any], lang: str) -> str:
    t = T[lang]
    if item.get("session"):
        return t["session"]
    seconds = item.get("lifetime_s")
    if seconds is None:
        return t["persistent"]
    for unit, size in _UNITS:
        if seconds >= size * 0.95:
            n = max(1, round(seconds / size))
            return f"{n} {t[unit] if n == 1 else t[unit + 's']}"
    n = int(seconds)
    return f"{n} {t['second'] if n == 1 else t['seconds']}"


def _rows(doc: dict[str, Any], lang: str) -> dict[str, list[dict[str, str]]]:
    t = T[lang]
    groups: dict[str, list[dict[str, str]]] = {c.value: [] for c in ORDER}
    for c in doc.get("cookies", []):
        provider = c.get("platform") or (t["this site"] if c.get("party") == "first" else c.get("domain"))
        groups.setdefault(c["category"], []).append(
            {
                "name": c["name"],
                "provider": str(provider or ""),
                "purpose": c.get("description") or "",
                "duration": duration(c, lang),
                "type": t["cookie"],
            }
        )
    for s in doc.get("storage", []):
        provider = s.get("platform") or (t["this site"] if s.get("party") == "first" else s.get("origin"))
        groups.setdefault(s["category"], []).append(
            {
                "name": s["key"],
                "provider": str(provider or ""),
                "purpose": s.get("description") or "",
                "duration": t["session"] if s.get("kind") == "sessionStorage" else t["persistent"],
                "type": t.get(s.get("kind", ""), s.get("kind", "")),
            }
        )
    for rows in groups.values():
        rows.sort(key=lambda r: r["name"].lower())
    return {k: v for k, v in groups.items() if v}


def _date(doc: dict[str, Any]) -> str:
    return str(doc.get("finished_at") or doc.get("started_at") or "")[:10]


COLUMNS = ("name", "provider", "purpose", "duration", "type")


def declaration_html(doc: dict[str, Any], locale: str | None = "en") -> str:
    lang = pick_language(locale)
    t = T[lang]
    groups = _rows(doc, lang)
    out = [f'<section class="cg-declaration" lang="{lang}">', f"<h2>{escape(t['title'])}</h2>"]
    if not groups:
        out.append(f"<p>{escape(t['none'])}</p>")
    for category, rows in groups.items():
        out.append(f'<h3 class="cg-category cg-{escape(category)}">{escape(t[category])} ({len(rows)})</h3>')
        out.append(f"<p>{escape(t[category + '.intro'])}</p>")
        out.append(
            "<table><thead><tr>" + "".join(f"<th>{escape(t[c])}</th>" for c in COLUMNS) + "</tr></thead>"
        )
        out.append("<tbody>")
        for r in rows:
            out.append("<tr>" + "".join(f"<td>{escape(r[c])}</td>" for c in COLUMNS) + "</tr>")
        out.append("</tbody></table>")
    out.append(f"<p><small>{escape(t['scanned'].format(date=_date(doc)))}</small></p>")
    out.append("</section>")
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    """A Markdown table cell: pipes and line breaks escaped, inline HTML neutralised."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", " ")
    )


def declaration_markdown(doc: dict[str, Any], locale: str | None = "en") -> str:
    lang = pick_language(locale)
    t = T[lang]
    groups = _rows(doc, lang)
    out = [f"## {t['title']}", ""]
    if not groups:
        out += [t["none"], ""]
    for category, rows in groups.items():
        out += [f"### {t[category]} ({len(rows)})", "", t[category + ".intro"], ""]
        out.append("| " + " | ".join(t[c] for c in COLUMNS) + " |")
        out.append("|" + "---|" * len(COLUMNS))
        for r in rows:
            out.append("| " + " | ".join(_md(r[c]) for c in COLUMNS) + " |")
        out.append("")
    out.append(f"_{t['scanned'].format(date=_date(doc))}_")
    return "\n".join(out) + "\n"
