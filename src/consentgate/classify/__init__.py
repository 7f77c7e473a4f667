"""What the data really holds: identifier detectors for free text and columns, data map, redaction.

::

    Scanner().scan(text, lang)        -> [Finding(start, end, type, score, rule)]
    classify_path(path)               -> per table, per column: types with their share, a level
    redact_text(text, findings, ...)  -> text with typed placeholders or keyed pseudonyms
"""

from consentgate.classify._extras import require

require()

from consentgate.classify.findings import EntityType, Finding, Level  # noqa: E402
from consentgate.classify.redact import Mode, Redactor  # noqa: E402
from consentgate.classify.scanner import Scanner  # noqa: E402

__all__ = ["EntityType", "Finding", "Level", "Mode", "Redactor", "Scanner"]
