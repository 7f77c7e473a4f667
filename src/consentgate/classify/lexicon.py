"""Context words per language (English, German, French, Spanish) that the detectors look for.

Kept as data, apart from the rules that use them, so a reviewer can read and extend each language.
Matching is case-insensitive unless a list says otherwise.
"""

from __future__ import annotations

from consentgate.classify.findings import EntityType

LANGS = ("en", "de", "fr", "es")

# -- dates ------------------------------------------------------------------------------------------
# Month names and their usual abbreviations → month number.
MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "january jan janvier janv januar jän jänner enero ene",
        "february feb février févr fevrier fev februar febrero",
        "march mar mars märz mär mrz marzo",
        "april apr avril av avr abril abr",
        "may mai mayo",
        "june jun juin juni junio",
        "july jul juillet juil juli julio",
        "august aug août aout agosto ago",
        "september sep sept septembre september septiembre setiembre",
        "october oct octobre oktober okt octubre",
        "november nov novembre noviembre",
        "december dec décembre decembre dez dezember diciembre dic",
    ],
    start=1,
):
    for _name in _names.split():
        MONTHS.setdefault(_name, _number)

# Words that mark the next date as a birth date.
DOB_CONTEXT = [
    # en
    "born", "birth", "birthday", "birthdate", "date of birth", "dob", "d.o.b", "d.o.b.", "b.",
    "born on", "born in", "date-of-birth", "birth date", "bday",
    # de
    "geboren", "geb.", "geburtsdatum", "geburtstag", "geb.-datum", "geburt", "geburtsjahr", "jahrgang",
    # fr
    "né", "née", "né le", "née le", "naissance", "date de naissance", "anniversaire", "ddn",
    # es
    "nacido", "nacida", "nací", "nació", "nacimiento", "fecha de nacimiento", "cumpleaños",
    "f. nac.", "fecha nac.", "f. de nacimiento", "fecha de nac.", "fecha de nac", "f. nac", "f.nac.",
    "fec. nac.", "nacimiento:",
]  # fmt: skip

# -- people -----------------------------------------------------------------------------------------
# Honorifics and titles written before a name (case-sensitive: "Dr." but not "dr").
TITLES = [
    "Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Miss", "Mx", "Mx.", "Dr", "Dr.", "Prof", "Prof.", "Sir",
    "Dame", "Lady", "Lord",
    "Herr", "Herrn", "Frau", "Hr.", "Fr.", "Dipl.-Ing.", "Ing.",
    "M.", "Mme", "Mme.", "Mlle", "Mlle.", "Monsieur", "Madame", "Mademoiselle", "Me", "Maître", "Pr",
    "Sr.", "Sra.", "Srta.", "Señor", "Señora", "Señorita", "Don", "Doña", "Dña.", "D.", "Dª",
]  # fmt: skip

# Phrases after which the next capitalised words are a person's name (lower-cased).
NAME_INTRO_STRONG = [
    # en
    "my name is", "my name's", "name:", "full name:", "customer name:", "contact person:", "contact:",
    "signed,", "signed:", "this is", "i am", "i'm", "name is", "called", "named", "from:",
    "account holder:", "cardholder:", "card holder:", "recipient:", "attn:", "attn.", "c/o",
    "regards,", "best regards,", "kind regards,", "thanks,", "thank you,", "cheers,", "best,",
    "sincerely,", "yours,", "spoke with", "spoke to", "talked to", "assigned to", "escalated to",
    "passed to", "customer", "user", "colleague", "manager", "husband", "wife", "son", "daughter",
    "mother", "father", "brother", "sister", "friend", "partner",
    # de
    "mein name ist", "ich heiße", "ich heisse", "ich bin", "name:", "vorname:", "nachname:",
    "ansprechpartner:", "ansprechpartnerin:", "kontoinhaber:", "kontoinhaberin:", "empfänger:",
    "mit freundlichen grüßen", "mit freundlichen grüssen", "viele grüße", "beste grüße", "grüße",
    "lg", "vg", "mfg", "gruß", "danke,", "kunde", "kundin", "kollege", "kollegin", "mitarbeiter",
    "mitarbeiterin", "mann", "frau", "sohn", "tochter", "mutter", "vater", "bruder", "schwester",
    "sprach mit", "gesprochen mit", "weitergeleitet an", "von:",
    # fr
    "je m'appelle", "je m’appelle", "mon nom est", "je suis", "nom :", "nom:", "prénom :", "prénom:",
    "nom et prénom :", "titulaire :", "titulaire du compte :", "destinataire :", "cordialement,",
    "cordialement", "bien à vous,", "bien cordialement,", "merci,", "client", "cliente", "collègue",
    "mari", "femme", "fils", "fille", "mère", "père", "frère", "sœur", "parlé avec", "de :",
    "transmis à",
    # es
    "me llamo", "mi nombre es", "soy", "nombre:", "nombre y apellidos:", "apellidos:", "titular:",
    "destinatario:", "saludos,", "saludos", "contacto:", "holder", "account holder", "titular",
    "titulaire", "kontoinhaber", "kontoinhaberin", "inhaber", "inhaberin", "kontakt:", "contact :",
    "name was", "named", "her name is", "his name is", "name is", "hieß", "heißt", "namens",
    "s'appelait", "s'appelle", "nommé", "nommée", "se llamaba", "se llama", "llamado", "llamada",
    "note from", "notiz von", "note de", "nota de", "message from", "nachricht von", "message de",
    "mensaje de", "un saludo,", "atentamente,", "atentamente", "gracias,",
    "cliente", "compañero", "compañera", "marido", "esposa", "esposo", "hijo", "hija", "madre", "padre",
    "hermano", "hermana", "hablé con", "de:",
]  # fmt: skip

# Greetings: the next word is a name when it is a known first name (lower-cased).
GREETINGS = [
    "hi", "hello", "hey", "dear", "thanks", "thank you", "good morning", "good afternoon",
    "hallo", "hi", "liebe", "lieber", "sehr geehrte", "sehr geehrter", "guten tag", "danke", "servus",
    "moin", "bonjour", "bonsoir", "salut", "cher", "chère", "merci", "coucou",
    "hola", "estimado", "estimada", "querido", "querida", "buenos días", "buenas tardes", "gracias",
]  # fmt: skip

# Lower-case particles inside names (von Trapp, de la Fuente, van der Berg, dos Santos, bin Said).
NAME_PARTICLES = frozenset(
    [
        "von",
        "van",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "du",
        "des",
        "la",
        "le",
        "y",
        "i",
        "dos",
        "das",
        "zu",
        "ter",
        "ten",
        "bin",
        "al",
        "el",
    ]
)

# Capitalised words that look like first names but usually are not one; a name needs more evidence.
AMBIGUOUS_FIRST_NAMES = frozenset(
    """
    will may june april august mark bill grant rose summer hope joy faith chase dean guy art sky rich
    young long king price page hill wood stone lane park bank star angel dawn eve iris ivy jade ruby
    pearl crystal amber april autumn winter sunny penny holly daisy lily violet hazel olive ginger
    max ray roy rob pat sue pat don jack jean frank miles victor august carol christian lance drew
    gene glen grace harmony honey destiny justice liberty royal sterling sonny tony bob
    mai sommer winter ernst fritz franz gustav ; klaus
    rené claude dominique pascal france céleste désiré aimé clément constant prudence
    dolores pilar rosario amparo consuelo soledad remedios luz sol paz mar alba nieves reyes
    santos cruz jesús ángel domingo
    paris florence madison victoria sydney jordan austin dallas houston phoenix georgia virginia
    carolina india china kenya brooklyn london chelsea camden devon kent lincoln orlando
    essen wien sankt nancy lourdes mercedes porsche
    """.replace(";", " ").split()
)

# Capitalised words that never start a name: days, months, greetings, pronouns and UI words.
NOT_NAMES = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "montag",
        "dienstag",
        "mittwoch",
        "donnerstag",
        "freitag",
        "samstag",
        "sonntag",
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
        "lunes",
        "martes",
        "miércoles",
        "jueves",
        "viernes",
        "sábado",
        "domingo",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "januar",
        "februar",
        "märz",
        "juni",
        "juli",
        "oktober",
        "dezember",
        "janvier",
        "février",
        "mars",
        "avril",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
        "hi",
        "hello",
        "hey",
        "dear",
        "thanks",
        "thank",
        "hallo",
        "danke",
        "bonjour",
        "merci",
        "hola",
        "gracias",
        "the",
        "a",
        "an",
        "i",
        "we",
        "you",
        "he",
        "she",
        "it",
        "they",
        "my",
        "your",
        "our",
        "this",
        "that",
        "these",
        "those",
        "team",
        "support",
        "customer",
        "service",
        "admin",
        "user",
        "agent",
        "bot",
        "system",
        "order",
        "account",
        "invoice",
        "ticket",
        "please",
        "sorry",
        "yes",
        "no",
        "ok",
        "okay",
        "best",
        "kind",
        "regards",
        "cheers",
        "sincerely",
        "thx",
        "der",
        "die",
        "das",
        "ein",
        "eine",
        "ich",
        "wir",
        "sie",
        "er",
        "es",
        "mein",
        "dein",
        "unser",
        "bitte",
        "ja",
        "nein",
        "le",
        "la",
        "les",
        "un",
        "une",
        "je",
        "nous",
        "vous",
        "il",
        "elle",
        "mon",
        "ton",
        "notre",
        "oui",
        "non",
        "el",
        "la",
        "los",
        "las",
        "un",
        "una",
        "yo",
        "nosotros",
        "usted",
        "él",
        "ella",
        "mi",
        "tu",
        "nuestro",
        "sí",
        "street",
        "road",
        "avenue",
        "straße",
        "strasse",
        "rue",
        "calle",
        "avenida",
        "google",
        "apple",
        "amazon",
        "microsoft",
        "paypal",
        "visa",
        "mastercard",
        "iphone",
        "android",
        "windows",
        "chrome",
        "firefox",
        "safari",
        "linux",
        "excel",
        "word",
        "gmail",
        "outlook",
        "whatsapp",
        "slack",
        "zoom",
        "teams",
        "stripe",
        "shopify",
        "netflix",
        "spotify",
        "uber",
        "release",
        "office",
        "desk",
        "group",
        "squad",
        "crew",
        "staff",
        "department",
        "abteilung",
        "équipe",
        "equipo",
        "servicio",
        "kundenservice",
        "ihr",
        "ihre",
        "euer",
        "eure",
        "votre",
        "vos",
        "su",
        "vuestro",
        "vuestra",
        "their",
        "his",
        "her",
        "sir",
        "madam",
        "everyone",
        "all",
        "there",
        "folks",
        "guys",
        "zusammen",
        "alle",
        "tous",
        "equipo",
        "todos",
        "day",
        "award",
        "prize",
        "foundation",
        "institute",
        "university",
        "school",
        "college",
        "hospital",
        "museum",
        "stadium",
        "airport",
    ]
)

# -- identifiers in context -------------------------------------------------------------------------
# Phrase (lower-cased) → the identifier type a value right after it is.
ID_CONTEXT: dict[str, EntityType] = {}


def _ctx(entity: EntityType, phrases: str) -> None:
    for phrase in phrases.split("|"):
        phrase = phrase.strip()
        if phrase:
            ID_CONTEXT[phrase] = entity


_ctx(
    EntityType.USER_ID,
    """user id|userid|user_id|user-id|user number|uid|customer id|customer_id|customerid|customer number|
    customer no|customer no.|customer #|customer ref|customer reference|client id number|account id|
    account_id|accountid|account number|account no|account no.|member id|member_id|member number|
    membership number|membership no|loyalty number|loyalty card number|subscriber id|player id|
    order|order id|order_id|orderid|order number|order no|order no.|order #|order ref|order reference|
    order nr|account|acct|member|member #|membre|mitglied|socio|loyalty card|loyalty no|clubcard|
    kundenkarte|payback|carte de fidélité|carte fidélité|tarjeta de fidelización|tarjeta de socio|
    user|customer|client|kunde|kundin|cliente|utilisateur|usuario|benutzer|nutzer|
    booking reference|booking number|
    booking id|reservation number|contract number|
    policy number|profile id|internal id|employee id|employee number|student id|patient id|
    kundennummer|kunden-nr|kunden-nr.|kundennr|kundennr.|kd.-nr.|kd-nr|kdnr|kunden-id|kundenid|
    benutzer-id|benutzerid|benutzernummer|nutzer-id|nutzerid|mitgliedsnummer|mitglieds-nr|
    bestellnummer|bestell-nr|bestell-nr.|bestellnr|bestellung|bestellung nr|bestellung nr.|
    auftragsnummer|auftrags-nr|auftrag|vertragsnummer|vertrags-nr|kundenkonto|buchungsnummer|
    numéro client|numéro de client|n° client|n° de client|no client|num client|identifiant client|
    id client|référence client|numéro d'adhérent|numéro de membre|identifiant utilisateur|id utilisateur|
    numéro de commande|n° de commande|n° commande|commande n°|commande|commande no|référence commande|
    numéro de contrat|numéro de réservation|numéro de compte client|
    número de cliente|nº de cliente|n.º de cliente|no. de cliente|id de cliente|id cliente|
    código de cliente|id de usuario|id usuario|identificador de usuario|número de socio|nº de socio|
    número de pedido|nº de pedido|n.º de pedido|pedido nº|pedido n.º|pedido|pedido número|
    número de contrato|número de reserva|localizador""",
)
_ctx(
    EntityType.COOKIE_ID,
    """cookie|cookie id|cookie_id|cookieid|cookie value|visitor id|visitor_id|visitorid|visitor-id|
    anonymous id|anonymous_id|anonymousid|ajs_anonymous_id|ajs_user_id|_ga|_gid|_fbp|_fbc|_gcl_au|
    _hjid|_hjsessionuser|mp_distinct_id|distinct_id|ga client id|client_id|clientid|cid|browser id|
    tracking cookie|tracking id|session cookie|amplitude_id|optimizely id|
    besucher-id|besucherid|besucherkennung|cookie-id|cookie-kennung|
    identifiant visiteur|identifiant du visiteur|id visiteur|identifiant cookie|identifiant de cookie|
    id de visitante|identificador de visitante|id del visitante|identificador de cookie|id de cookie""",
)
_ctx(
    EntityType.DEVICE_ID,
    """idfa|idfv|gaid|aaid|adid|ad id|advertising id|advertising_id|advertisingid|ad_id|
    advertising identifier|identifier for advertisers|ad identifier|
    android id|android_id|androidid|device id|device_id|deviceid|device-id|device identifier|
    hardware id|imei|mobile ad id|maid|ifa|device|geraet|gerät|dispositivo|
    geräte-id|geräteid|gerätekennung|geräte-kennung|werbe-id|werbeid|
    identifiant de l'appareil|identifiant appareil|id appareil|identifiant publicitaire|
    id de dispositivo|identificador del dispositivo|identificador de dispositivo|
    id de publicidad|identificador de publicidad|id publicitario""",
)
_ctx(
    EntityType.HASHED_EMAIL,
    """hashed email|hashed e-mail|email hash|e-mail hash|email_hash|emailhash|hashed_email|
    email_sha256|email_sha1|email_md5|sha256_email|md5_email|sha256(email)|md5(email)|sha1(email)|
    sha256 of the email|md5 of the email|hash of the email|hash of their email|em|
    hashed email address|email address hash|ehash|
    gehashte e-mail|gehashte e-mail-adresse|e-mail-hash|hash der e-mail|
    e-mail haché|email haché|adresse e-mail hachée|hash de l'e-mail|hash de l'email|
    correo hasheado|email hasheado|hash del correo|hash del email|correo cifrado con hash""",
)

# Phrases that make the value after them *not* personal: request/trace ids, commits, SKUs, builds.
ID_NEGATIVE_CONTEXT = frozenset(
    p.strip()
    for p in """
    request id|request_id|requestid|x-request-id|trace id|trace_id|traceid|span id|span_id|
    correlation id|correlation_id|transaction id|txn|commit|sha|checksum|build|version|release|
    sku|item|article|artikel|artikelnummer|art.-nr.|art.-nr|product|produkt|produit|producto|
    référence produit|ref produit|part number|model|modell|modèle|modelo|job id|job_id|run id|run_id|
    ticket|ticket id|case|case id|incident|vorgang|vorgangsnummer|rechnungsnummer|invoice|
    numéro de facture|factura|tracking number|sendungsnummer|numéro de suivi|número de seguimiento|
    file|datei|fichier|archivo|etag|nonce|token|hash
    """.replace("\n", "|").split("|")
    if p.strip()
)

# Context words that make a number a phone number (lower-cased, prefix-matched in a window).
PHONE_CONTEXT = (
    "phone|tel|tel\\.|telephone|call|mobile|cell|fax|whatsapp|sms|text me|reach me|"
    "telefon|tel\\.-nr|handy|mobil|rufnummer|festnetz|anrufen|rückruf|erreichbar|"
    "téléphone|tél|portable|joindre|appel|rappel|"
    "teléfono|tlf|tfno|móvil|movil|celular|llam"
)

# Words right before a number that make it an identifier or a quantity, not a phone number.
NOT_PHONE_CONTEXT = (
    "order|account|invoice|ticket|sku|ref|reference|id|no|nr|kundennummer|bestellnummer|bestellung|"
    "rechnung|auftrag|commande|facture|pedido|factura|serial|build|version|iban|bic|"
    "card|karte|carte|tarjeta|plz|zip|postcode|code|pin|amount|total|betrag|montant|importe|eur|usd|€|\\$"
)

# Street-type words per pattern group (lower-cased). The address patterns run only in windows around
# these words, so text without them costs one automaton pass and nothing more. German suffixes also
# match inside compounds (Goethe*straße*, Linden*allee*).
STREET_TRIGGERS: dict[str, str] = {
    "en": "street st st. avenue ave road rd lane ln drive dr boulevard blvd court ct way place pl terrace "
    "ter circle cir parkway pkwy highway hwy square sq close crescent cres row gardens gdns grove mews "
    "walk trail trl alley plaza loop hill green rise view heights path pike ridge hollow creek estate wharf",
    "de": "straße strasse str. weg gasse allee platz ring damm ufer chaussee steig pfad markt berg hof "
    "graben wall stieg kamp twiete zeile garten höhe brücke brink anger winkel redder deich promenade "
    "park feld tor bogen grund blick hang aue siedlung",
    "fr": "rue avenue av. ave bd boulevard blvd place pl. chemin ch. allée allee impasse imp. quai route rte "
    "cours square passage voie rond-point promenade sentier faubourg fg parvis esplanade cité résidence "
    "lieu-dit hameau montée traverse villa lotissement clos domaine chaussée drève",
    "es": "calle c/ c. avenida avda avda. av. avd. paseo pº p.º plaza pza pza. pl. camino carretera ctra "
    "ctra. ronda travesía travesia glorieta vía via rambla callejón urbanización urb. pasaje bulevar "
    "costanilla cuesta carrer passeig avinguda calzada colonia col.",
    "box": "box postfach boîte bp apartado",
    "label": "address adresse anschrift lieferadresse rechnungsadresse wohnadresse dirección direccion "
    "domicilio live wohne habite vivo moved umgezogen déménagé",
}
INFIX_GROUPS = frozenset({"de"})
