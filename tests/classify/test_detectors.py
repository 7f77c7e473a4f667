"""Every detector on positives and look-alikes, in English, German, French and Spanish."""

from __future__ import annotations

import itertools

import pytest

from consentgate.classify import Scanner

from .conftest import found, types_of

# (language, text, type, the exact text that must be found)
POSITIVES = [
    # e-mail
    ("en", "Reach me at anna.schmidt@example.com tomorrow.", "EMAIL", "anna.schmidt@example.com"),
    ("de", "Meine Adresse ist jürgen.müller@example.de, danke.", "EMAIL", "jürgen.müller@example.de"),
    ("fr", "Écrivez à chloe [at] example [dot] fr svp", "EMAIL", "chloe [at] example [dot] fr"),
    ("es", "Mi correo: lucia_garcia88@example.es.", "EMAIL", "lucia_garcia88@example.es"),
    # phone
    ("en", "Call me on (415) 555-0132 after six.", "PHONE", "(415) 555-0132"),
    ("en", "My mobile is 07700 900123.", "PHONE", "07700 900123"),
    ("de", "Rufen Sie mich unter +49 30 12345678 an.", "PHONE", "+49 30 12345678"),
    ("de", "Handy: 0151 23456789", "PHONE", "0151 23456789"),
    ("fr", "Mon portable : 06 12 34 56 78.", "PHONE", "06 12 34 56 78"),
    ("es", "Llámeme al +34 912 345 678, por favor.", "PHONE", "+34 912 345 678"),
    # IP addresses
    ("en", "Login from 192.0.2.14 failed.", "IP_ADDRESS", "192.0.2.14"),
    ("de", "Zugriff von 2001:db8::8a2e:370:7334 blockiert.", "IP_ADDRESS", "2001:db8::8a2e:370:7334"),
    # payment card (Luhn) and IBAN (mod 97)
    ("en", "Card: 4111 1111 1111 1111 exp 12/27", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("fr", "Carte 5500-0000-0000-0004 refusée", "CREDIT_CARD", "5500-0000-0000-0004"),
    ("de", "IBAN: DE89 3704 0044 0532 0130 00 (Sparkasse)", "IBAN", "DE89 3704 0044 0532 0130 00"),
    ("es", "Cuenta ES9121000418450200051332 a mi nombre", "IBAN", "ES9121000418450200051332"),
    ("fr", "Virement sur FR1420041010050500013M02606 svp", "IBAN", "FR1420041010050500013M02606"),
    # context identifiers
    ("en", "visitor_id=0b1c2d3e-4f50-4617-8a9b-c0d1e2f3a4b5 path=/", "COOKIE_ID", "0b1c2d3e-4f50-4617-8a9b-c0d1e2f3a4b5"),
    ("en", "Cookie: _ga=GA1.2.1234567890.1612345678; theme=dark", "COOKIE_ID", "GA1.2.1234567890.1612345678"),
    ("de", "Die Besucher-ID lautet 7f9c2a10-5b3e-4c8d-9e1f-2a3b4c5d6e7f.", "COOKIE_ID", "7f9c2a10-5b3e-4c8d-9e1f-2a3b4c5d6e7f"),
    ("en", "IDFA: 6D92078A-8246-4BA4-AE5B-76104861E7DC", "DEVICE_ID", "6D92078A-8246-4BA4-AE5B-76104861E7DC"),
    ("es", "ID de publicidad 38400000-8cf0-11bd-b23e-10b96e40000d en Android", "DEVICE_ID", "38400000-8cf0-11bd-b23e-10b96e40000d"),
    ("en", "android_id=9774d56d682e549c model=Pixel", "DEVICE_ID", "9774d56d682e549c"),
    ("fr", "e-mail haché : 5d41402abc4b2a76b9719d911017c592", "HASHED_EMAIL", "5d41402abc4b2a76b9719d911017c592"),
    ("en", "email_sha256=b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9", "HASHED_EMAIL",
     "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"),
    ("de", "Meine Kundennummer lautet KD-2023-00481.", "USER_ID", "KD-2023-00481"),
    ("fr", "Numéro de commande : 40291877", "USER_ID", "40291877"),
    ("es", "Mi número de cliente es C204518.", "USER_ID", "C204518"),
    ("en", "auth failed user_id=u_8f3k2x9q from office", "USER_ID", "u_8f3k2x9q"),
    # people
    ("en", "Hi, my name is Emily Thompson and I need help.", "PERSON", "Emily Thompson"),
    ("en", "Kind regards,\nGrace Okafor", "PERSON", "Grace Okafor"),
    ("de", "Ich habe mit Frau Dr. Schneider telefoniert.", "PERSON", "Schneider"),
    ("de", "Mein Name ist Jürgen Köhler.", "PERSON", "Jürgen Köhler"),
    ("fr", "Bonjour, je m'appelle Jean-Baptiste Lefèvre.", "PERSON", "Jean-Baptiste Lefèvre"),
    ("fr", "Mme Dupont a appelé ce matin.", "PERSON", "Dupont"),
    ("es", "Hola, me llamo María García López.", "PERSON", "María García López"),
    ("es", "Hablé con doña Carmen Ruiz ayer.", "PERSON", "Carmen Ruiz"),
    ("de", "Schmidt, Anna hat angerufen.", "PERSON", "Schmidt, Anna"),
    # street addresses
    ("en", "Ship it to 221B Baker Street, London NW1 6XE please.", "STREET_ADDRESS", "221B Baker Street, London NW1 6XE"),
    ("en", "I live at 742 Evergreen Terrace, Springfield, OR 97403.", "STREET_ADDRESS",
     "742 Evergreen Terrace, Springfield, OR 97403"),
    ("de", "Lieferung an Hauptstraße 5, 10115 Berlin bitte.", "STREET_ADDRESS", "Hauptstraße 5, 10115 Berlin"),
    ("de", "Wir wohnen Am Mühlbach 12, 79100 Freiburg.", "STREET_ADDRESS", "Am Mühlbach 12, 79100 Freiburg"),
    ("fr", "Livrez au 12 rue de la Paix, 75002 Paris.", "STREET_ADDRESS", "12 rue de la Paix, 75002 Paris"),
    ("es", "Envíelo a Calle Mayor 3, 2º B, 28013 Madrid.", "STREET_ADDRESS", "Calle Mayor 3, 2º B, 28013 Madrid"),
    # birth dates
    ("en", "I was born on March 3rd, 1990 in Leeds.", "DATE_OF_BIRTH", "March 3rd, 1990"),
    ("de", "Geburtsdatum: 12.03.1985", "DATE_OF_BIRTH", "12.03.1985"),
    ("fr", "Née le 1er mars 1975 à Lyon.", "DATE_OF_BIRTH", "1er mars 1975"),
    ("es", "Fecha de nacimiento: 5 de mayo de 1988.", "DATE_OF_BIRTH", "5 de mayo de 1988"),
    ("en", "Agent: Can you confirm your date of birth?\nCustomer: sure, 07/04/1992", "DATE_OF_BIRTH", "07/04/1992"),
    ("en", "Born: 1985", "DATE_OF_BIRTH", "1985"),
    # the way forms, logs and chats really write things
    ("en", "hi my name is anna schmidt and i need help", "PERSON", "anna schmidt"),
    ("es", "nombre: maría garcía, tel 612 345 678", "PERSON", "maría garcía"),
    ("en", "Customer-ID: 48213", "USER_ID", "48213"),
    ("en", "[10:04] Bot: your order number?\n[10:04] Visitor: #A-77812", "USER_ID", "#A-77812"),
    ("en", "_gcl_au=1.1.1234567890.1700000000; path=/", "COOKIE_ID", "1.1.1234567890.1700000000"),
    ("en", "Call (867)712-7684x2684 or 879.590.7511", "PHONE", "(867)712-7684x2684"),
    ("en", "Ship to 2585 Scott Pass Apt. 286, Tracytown, NJ 06200", "STREET_ADDRESS", "2585 Scott Pass Apt. 286, Tracytown, NJ 06200"),
    ("en", "Flat 8, Wilkinson Loop, Joanberg, N97 2AJ", "STREET_ADDRESS", "Flat 8, Wilkinson Loop, Joanberg, N97 2AJ"),
    ("fr", "Envoyer rue de Thibault, 08733 Mahe", "STREET_ADDRESS", "rue de Thibault, 08733 Mahe"),
    ("es", "Dirección: Pasadizo de Emilio Zabaleta 490, Albacete, 03743", "STREET_ADDRESS",
     "Pasadizo de Emilio Zabaleta 490, Albacete, 03743"),
]  # fmt: skip

# (language, text, types that must NOT be reported)
NEGATIVES = [
    ("en", "Upgrade to version 10.0.19045.3803 or v4.1.2.9 first.", {"IP_ADDRESS", "PHONE"}),
    (
        "en",
        "request_id=3f2a9c1e-8b7d-4c6e-9f0a-1b2c3d4e5f60 status=500",
        {"COOKIE_ID", "DEVICE_ID", "USER_ID"},
    ),
    ("en", "trace id 9e107d9d-372b-4b6b-a7c4-11b2e2e5d8d1 logged", {"COOKIE_ID", "DEVICE_ID", "USER_ID"}),
    ("en", "Fixed in commit 3f786850e387550fdab836ed7e6dc881de23001b.", {"HASHED_EMAIL", "USER_ID"}),
    ("en", "image sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", {"HASHED_EMAIL"}),
    ("de", "Artikelnummer SKU-48213-BL, 3 Stück à 19,99 €.", {"USER_ID", "PHONE", "CREDIT_CARD"}),
    ("en", "The card number 4111 1111 1111 1112 is invalid.", {"CREDIT_CARD"}),
    ("fr", "EAN 4006381333931 sur l'étiquette", {"CREDIT_CARD", "PHONE"}),
    ("es", "IBAN ES9121000418450200051333 (mal copiado)", {"IBAN"}),
    ("en", "Order placed on 12/03/2024, delivered 2024-03-15.", {"DATE_OF_BIRTH", "PHONE"}),
    ("de", "Bestellung vom 14.02.2024 um 10:30 Uhr.", {"DATE_OF_BIRTH", "PHONE"}),
    ("en", "Will you help? May I ask? Mark as resolved.", {"PERSON"}),
    ("en", "The Paris office closes in June.", {"PERSON"}),
    ("fr", "L'équipe vous remercie. Cordialement,\nL'équipe support", {"PERSON"}),
    ("de", "Freundliche Grüße\nIhr Datenschutz-Team", {"PERSON"}),
    ("es", "Gracias,\nEquipo de Soporte", {"PERSON"}),
    ("en", "Im Jahr 2020 kamen 5 Leute; see section 3 Table 4.", {"STREET_ADDRESS"}),
    ("en", "Tracking number 1Z999AA10123456784 shipped.", {"PHONE", "USER_ID", "CREDIT_CARD"}),
    ("en", "The IBAN field is required.", {"PERSON", "IBAN"}),
    ("en", "Parking on Mark Lane costs $12. Grace Hopper Day is on December 9.", {"PERSON"}),
    (
        "fr",
        "Bonjour, Léa Poirier à l'appareil. Ma carte 4577027743534984 est refusée.",
        {"DEVICE_ID", "CREDIT_CARD"},
    ),
    ("en", "the customer 2024 survey; user 42 of 100; customer 3 called twice", {"USER_ID"}),
    ("en", "my name is not important", {"PERSON"}),
]


@pytest.mark.parametrize(("lang", "text", "kind", "expected"), POSITIVES)
def test_positive(scanner: Scanner, lang: str, text: str, kind: str, expected: str) -> None:
    assert (kind, expected) in found(scanner, text, lang)


@pytest.mark.parametrize(("lang", "text", "kind", "expected"), POSITIVES)
def test_positive_without_language_hint(
    scanner: Scanner, lang: str, text: str, kind: str, expected: str
) -> None:
    del lang
    assert kind in types_of(scanner, text)


@pytest.mark.parametrize(("lang", "text", "forbidden"), NEGATIVES)
def test_lookalikes_do_not_fire(scanner: Scanner, lang: str, text: str, forbidden: set[str]) -> None:
    assert not types_of(scanner, text, lang) & forbidden, found(scanner, text, lang)


def test_offsets_are_code_points_in_non_ascii_text(scanner: Scanner) -> None:
    text = "Grüße 👋 aus Köln! Schreib an zoë.ölçek@example.de — Tel. +49 221 1234567"
    by_type = {f.type.value: f for f in scanner.scan(text, "de")}
    email, phone = by_type["EMAIL"], by_type["PHONE"]
    assert text[email.start : email.end] == "zoë.ölçek@example.de"
    assert text[phone.start : phone.end] == "+49 221 1234567"
    # Code points, not UTF-8 bytes or UTF-16 units: the emoji counts once.
    assert email.start == text.index("zoë")


def test_findings_carry_score_and_rule(scanner: Scanner) -> None:
    (f,) = scanner.scan("IBAN DE89 3704 0044 0532 0130 00")
    assert f.rule == "iban_mod97"
    assert 0 < f.score <= 1
    assert f.as_json() == {"start": 5, "end": 32, "type": "IBAN", "score": 0.95, "rule": "iban_mod97"}


def test_findings_do_not_overlap(scanner: Scanner) -> None:
    text = "Anna Schmidt <anna.schmidt@example.com>, Hauptstraße 5, 10115 Berlin, geb. 12.03.1985"
    findings = scanner.scan(text, "de")
    for a, b in itertools.pairwise(findings):
        assert a.end <= b.start


def test_min_score_and_type_filter() -> None:
    from consentgate.classify.findings import EntityType

    only_email = Scanner(types=frozenset({EntityType.EMAIL}))
    assert {f.type for f in only_email.scan("Anna, anna@example.com, +49 30 12345678")} == {EntityType.EMAIL}
    strict = Scanner(min_score=0.99)
    assert strict.scan("Anna Schmidt, anna@example.com") == []


def test_empty_text(scanner: Scanner) -> None:
    assert scanner.scan("") == []
