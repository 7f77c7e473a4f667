"""Templates of the development corpus, per language: (kind, text with {slots}).

Slots are listed in build.py (``SLOTS``); ``neg_*`` slots insert unlabelled hard negatives, a trailing
``2`` (``{name2}``) fills a second person.
"""

from __future__ import annotations

T = tuple[str, str]

EN: list[T] = [
    (
        "chat",
        "Customer: Hi, my name is {name_full} and I can't log in.\nAgent: Sorry to hear that! Which email is on the account?\nCustomer: {email}\nAgent: Thanks, {first}. I've sent a reset link.",
    ),
    (
        "chat",
        "Agent: Could you confirm your date of birth for verification?\nCustomer: sure, it's {dob}\nAgent: Thank you. And the phone number on file?\nCustomer: {phone}",
    ),
    (
        "form",
        "Feedback form\nName: {name}\nEmail: {email}\nMessage: The app version {neg_version} keeps crashing when I open my basket. Please call me on {phone}.",
    ),
    (
        "email",
        "Hello,\n\nplease update my delivery address to {address}. My customer number is {user_id}.\n\nKind regards,\n{name_full}",
    ),
    (
        "log",
        "2026-03-14T09:12:44Z INFO login ok user_id={user_id} ip={ip} request_id={neg_uuid} latency_ms={neg_qty}",
    ),
    (
        "log",
        "{neg_ts} WARN payment declined order={order_id} card_last4=1234 client_ip={ip} build={neg_build}",
    ),
    (
        "chat",
        "Customer: I was charged twice for order {order_id}.\nAgent: I can see two charges of ${neg_amount}. Can you read me the card number so I can match them?\nCustomer: {card}",
    ),
    (
        "form",
        "Refund request - bank details\nAccount holder: {name_full}\nIBAN: {iban}\nReason: item arrived broken (SKU {neg_sku}).",
    ),
    (
        "crm",
        "Call note: spoke with {name_title} about the renewal. She was born {dob} and asked us to send the contract to {address}.",
    ),
    ("event", "track event=page_view visitor_id={cookie} path=/pricing referrer=www.example.com ts={neg_ts}"),
    ("event", "mobile_install idfa={device} app_version={neg_version} country=GB campaign=spring_sale"),
    ("event", "Audience upload row: hashed email {hashed_email}, consent=granted, segment=loyal"),
    (
        "chat",
        "Agent: Hi {first}, thanks for waiting. I checked ticket #{neg_ticket} and the courier has your parcel ({neg_tracking}).\nCustomer: great, the house is {address}",
    ),
    (
        "email",
        "Hi team,\n\n{name_full} ({email}) asked to close her account. Her advertising ID is {device} and the request came from {ip}.\n\nThanks,\n{name_full2}",
    ),
    (
        "form",
        "Contact us\nFull name: {name_full}\nPhone: {phone}\nDOB: {dob}\nComments: I'd like to know what you store about me.",
    ),
    (
        "chat",
        "Customer: my wife {name_full2} placed the order, not me. I'm {name_full}.\nAgent: Understood. Can you give me the order number?\nCustomer: {order_id}",
    ),
    ("log", "DEBUG sync finished job_id={neg_uuid} commit={neg_commit} duration={neg_time} rows={neg_qty}"),
    (
        "crm",
        "Support ticket {neg_ticket}: {name} reported that the card ending 4242 was declined twice. Suggested trying {card} instead? No - customer read out full number by mistake, redacted later.",
    ),
    (
        "email",
        "Dear {name_title},\n\nwe received your request from {email}. We will reply within 30 days.\n\nBest regards,\nData Protection Team",
    ),
    (
        "chat",
        "Customer: hey, it's {first} again. still can't pair my {neg_product}. firmware {neg_version}\nAgent: Let's try a reset. Which phone are you using?\nCustomer: iPhone, number {phone}",
    ),
    ("form", "Account deletion\nUser ID: {user_id}\nEmail address: {email}\nBirth date: {dob}"),
    ("event", "cookie sync: _ga={cookie} _gid set, consent banner v{neg_port} shown at {neg_time}"),
    ("log", "auth failed for customer_id={user_id} from {ip} (attempt {neg_qty}/5), trace_id={neg_uuid}"),
    (
        "email",
        "Hello,\nI moved! New address: {address}. Please also update my phone to {phone}.\nCheers, {first}",
    ),
    (
        "crm",
        "Lead: {name_full}, {phone}, interested in the Pro plan. Met at the {neg_city} fair on {neg_date}.",
    ),
    (
        "chat",
        "Agent: For security, what's the email on your account?\nCustomer: {email} or maybe {email2}, I have two\nAgent: Found it under the first one, {first}.",
    ),
    ("form", "Newsletter signup: {email} | hashed: {hashed_email} | source=footer"),
    ("event", "device registered android_id={device} model={neg_product} os={neg_version}"),
    (
        "email",
        "Hi,\n\nplease refund to my account {iban} (holder {name_full}). Order {order_id} was never delivered.\n\nThanks",
    ),
    (
        "chat",
        "Customer: My daughter {name_full} was born on {dob}, can she have her own account?\nAgent: Accounts are for 16 and over, sorry.",
    ),
    (
        "crm",
        "Escalated to {name_full2}. Customer {name} called from {phone} about invoice {neg_ticket}, amount {neg_amount} GBP.",
    ),
    ("log", 'GET /api/v2/orders/{neg_ticket} 200 client={ip} ua="Mozilla/5.0" req={neg_uuid}'),
    (
        "form",
        "Survey: How did we do? 4/5. Name (optional): {first}. Anything else? Delivery to {address} was late by {neg_qty} days.",
    ),
    (
        "email",
        "From: {name_full} <{email}>\nSubject: Wrong item\n\nI ordered a blue jumper (SKU {neg_sku}) and got red. Order no. {order_id}.",
    ),
]
DE: list[T] = [
    (
        "chat",
        "Kunde: Hallo, mein Name ist {name_full}, ich komme nicht in mein Konto.\nAgent: Das tut mir leid! Welche E-Mail-Adresse ist hinterlegt?\nKunde: {email}\nAgent: Danke, {first}. Ich habe Ihnen einen Link geschickt.",
    ),
    (
        "chat",
        "Agent: Zur Verifizierung bräuchte ich Ihr Geburtsdatum.\nKunde: {dob}\nAgent: Danke. Und Ihre Telefonnummer?\nKunde: {phone}",
    ),
    (
        "form",
        "Kontaktformular\nName: {name}\nE-Mail: {email}\nNachricht: Die App stürzt seit Version {neg_version} ab. Bitte rufen Sie mich unter {phone} an.",
    ),
    (
        "email",
        "Guten Tag,\n\nbitte ändern Sie meine Lieferadresse auf {address}. Meine Kundennummer lautet {user_id}.\n\nMit freundlichen Grüßen\n{name_full}",
    ),
    ("log", "2026-03-14T09:12:44Z INFO login ok user_id={user_id} ip={ip} request_id={neg_uuid}"),
    (
        "chat",
        "Kunde: Bestellung {order_id} wurde zweimal abgebucht!\nAgent: Ich sehe zwei Buchungen über {neg_amount} €. Können Sie mir die Kartennummer nennen?\nKunde: {card}",
    ),
    (
        "form",
        "Erstattung – Bankverbindung\nKontoinhaber: {name_full}\nIBAN: {iban}\nGrund: Artikel defekt (Art.-Nr. {neg_sku})",
    ),
    (
        "crm",
        "Gesprächsnotiz: Telefonat mit {name_title} zur Vertragsverlängerung. Geboren am {dob}, Unterlagen bitte an {address}.",
    ),
    ("event", "track event=page_view visitor_id={cookie} path=/preise ts={neg_ts}"),
    ("event", "App-Installation: Werbe-ID {device}, App-Version {neg_version}, Land DE"),
    ("event", "Zielgruppen-Upload: gehashte E-Mail {hashed_email}, Einwilligung erteilt"),
    (
        "chat",
        "Agent: Hallo {first}, danke fürs Warten. Ticket {neg_ticket} ist bearbeitet, die Sendung ({neg_tracking}) ist unterwegs.\nKunde: super, ich wohne in der {address}",
    ),
    (
        "email",
        "Hallo zusammen,\n\n{name_full} ({email}) möchte ihr Konto löschen. Die Anfrage kam von IP {ip}, Geräte-ID {device}.\n\nDanke,\n{name_full2}",
    ),
    (
        "form",
        "Auskunftsersuchen nach Art. 15 DSGVO\nVorname: {first}\nTelefon: {phone}\nGeburtsdatum: {dob}\nAnschrift: {address}",
    ),
    (
        "chat",
        "Kunde: Meine Frau {name_full2} hat bestellt, nicht ich. Ich bin {name_full}.\nAgent: Verstehe. Wie lautet die Bestellnummer?\nKunde: {order_id}",
    ),
    ("log", "DEBUG Sync fertig job_id={neg_uuid} commit={neg_commit} Dauer={neg_time} Zeilen={neg_qty}"),
    (
        "email",
        "Sehr geehrte {name_title},\n\nwir haben Ihre Anfrage von {email} erhalten und antworten innerhalb von 30 Tagen.\n\nFreundliche Grüße\nIhr Datenschutz-Team",
    ),
    (
        "chat",
        "Kunde: hi, hier nochmal {first}. Mein {neg_product} koppelt immer noch nicht, Firmware {neg_version}\nAgent: Welche Handynummer haben Sie?\nKunde: {phone}",
    ),
    ("form", "Kontolöschung\nBenutzer-ID: {user_id}\nE-Mail: {email}\nGeburtsdatum: {dob}"),
    ("event", "Cookie-Sync: _ga={cookie}, Banner v{neg_port} angezeigt um {neg_time} Uhr"),
    (
        "log",
        "Anmeldung fehlgeschlagen für Kundennummer {user_id} von {ip} (Versuch {neg_qty}/5), trace_id={neg_uuid}",
    ),
    ("email", "Hallo,\nich bin umgezogen! Neue Adresse: {address}. Neue Handynummer: {phone}.\nLG {first}"),
    (
        "crm",
        "Lead: {name_full}, Tel. {phone}, Interesse am Pro-Tarif. Kennengelernt auf der Messe in {neg_city} am {neg_date}.",
    ),
    (
        "chat",
        "Agent: Welche E-Mail-Adresse nutzen Sie?\nKunde: {email}, oder vielleicht {email2}\nAgent: Gefunden, Herr {name_full}.",
    ),
    ("form", "Newsletter-Anmeldung: {email} | Hash: {hashed_email} | Quelle=Footer"),
    (
        "email",
        "Hallo,\n\nbitte erstatten Sie den Betrag auf {iban} (Kontoinhaberin {name_full}). Bestellung {order_id} kam nie an.\n\nDanke",
    ),
    (
        "chat",
        "Kunde: Meine Tochter {name_full} ist am {dob} geboren, darf sie ein eigenes Konto haben?\nAgent: Leider erst ab 16.",
    ),
    (
        "crm",
        "Weitergeleitet an {name_full2}. Kunde {name} rief von {phone} an wegen Rechnung {neg_ticket} über {neg_amount} EUR.",
    ),
    ("log", "GET /api/v2/bestellungen/{neg_ticket} 200 client={ip} req={neg_uuid}"),
    (
        "form",
        "Umfrage: Wie zufrieden sind Sie? 4/5. Name (optional): {first}. Lieferung an {address} kam {neg_qty} Tage zu spät.",
    ),
    (
        "email",
        "Von: {name_full} <{email}>\nBetreff: Falscher Artikel\n\nIch habe Artikel {neg_sku} bestellt und etwas anderes bekommen. Bestellnummer {order_id}.",
    ),
    (
        "chat",
        "Kunde: Moin, {name_full} hier. Meine Karte {neg_bad_card} wird nicht akzeptiert.\nAgent: Die Nummer scheint nicht gültig zu sein. Bitte prüfen Sie sie noch einmal.",
    ),
    ("crm", "Rückruf erbeten: {name_title}, erreichbar unter {phone} ab {neg_time} Uhr."),
]
FR: list[T] = [
    (
        "chat",
        "Client : Bonjour, je m'appelle {name_full} et je n'arrive pas à me connecter.\nAgent : Désolé ! Quelle adresse e-mail est associée au compte ?\nClient : {email}\nAgent : Merci {first}, je vous ai envoyé un lien.",
    ),
    (
        "chat",
        "Agent : Pour vérifier votre identité, quelle est votre date de naissance ?\nClient : {dob}\nAgent : Merci. Et votre numéro de téléphone ?\nClient : {phone}",
    ),
    (
        "form",
        "Formulaire de contact\nNom : {name}\nE-mail : {email}\nMessage : l'application plante depuis la version {neg_version}. Rappelez-moi au {phone} svp.",
    ),
    (
        "email",
        "Bonjour,\n\nmerci de modifier mon adresse de livraison : {address}. Mon numéro client est {user_id}.\n\nCordialement,\n{name_full}",
    ),
    ("log", "2026-03-14T09:12:44Z INFO connexion ok user_id={user_id} ip={ip} request_id={neg_uuid}"),
    (
        "chat",
        "Client : La commande {order_id} a été débitée deux fois !\nAgent : Je vois deux paiements de {neg_amount} €. Pouvez-vous me donner le numéro de carte ?\nClient : {card}",
    ),
    (
        "form",
        "Remboursement – coordonnées bancaires\nTitulaire du compte : {name_full}\nIBAN : {iban}\nMotif : article défectueux (réf. produit {neg_sku})",
    ),
    (
        "crm",
        "Note d'appel : échange avec {name_title} au sujet du renouvellement. Née le {dob}, envoyer le contrat au {address}.",
    ),
    ("event", "track event=page_view visitor_id={cookie} path=/tarifs ts={neg_ts}"),
    ("event", "Installation mobile : identifiant publicitaire {device}, version {neg_version}, pays FR"),
    ("event", "Import d'audience : e-mail haché {hashed_email}, consentement accordé"),
    (
        "chat",
        "Agent : Bonjour {first}, merci de votre patience. Le ticket {neg_ticket} est traité, colis {neg_tracking} en route.\nClient : parfait, j'habite au {address}",
    ),
    (
        "email",
        "Bonjour à tous,\n\n{name_full} ({email}) demande la suppression de son compte. Demande reçue depuis l'IP {ip}, identifiant de l'appareil {device}.\n\nMerci,\n{name_full2}",
    ),
    (
        "form",
        "Demande d'accès RGPD\nPrénom : {first}\nTéléphone : {phone}\nDate de naissance : {dob}\nAdresse : {address}",
    ),
    (
        "chat",
        "Client : C'est ma femme {name_full2} qui a commandé. Moi c'est {name_full}.\nAgent : D'accord. Quel est le numéro de commande ?\nClient : {order_id}",
    ),
    ("log", "DEBUG synchro terminée job_id={neg_uuid} commit={neg_commit} durée={neg_time} lignes={neg_qty}"),
    (
        "email",
        "{name_title},\n\nnous avons bien reçu votre demande envoyée depuis {email}. Réponse sous 30 jours.\n\nBien cordialement,\nL'équipe protection des données",
    ),
    (
        "chat",
        "Client : re, c'est {first}. Mon {neg_product} ne se connecte toujours pas, firmware {neg_version}\nAgent : Quel est votre numéro de portable ?\nClient : {phone}",
    ),
    (
        "form",
        "Suppression de compte\nIdentifiant utilisateur : {user_id}\nE-mail : {email}\nDate de naissance : {dob}",
    ),
    ("event", "synchro cookies : _ga={cookie}, bannière v{neg_port} affichée à {neg_time}"),
    (
        "log",
        "échec d'authentification numéro client {user_id} depuis {ip} (essai {neg_qty}/5), trace_id={neg_uuid}",
    ),
    (
        "email",
        "Bonjour,\nj'ai déménagé ! Nouvelle adresse : {address}. Nouveau portable : {phone}.\nBise, {first}",
    ),
    (
        "crm",
        "Prospect : {name_full}, tél. {phone}, intéressé par l'offre Pro. Rencontré au salon de {neg_city} le {neg_date}.",
    ),
    (
        "chat",
        "Agent : Quelle adresse e-mail utilisez-vous ?\nClient : {email} ou peut-être {email2}\nAgent : Trouvé, {name_title}.",
    ),
    ("form", "Inscription newsletter : {email} | hash : {hashed_email} | source=pied de page"),
    (
        "email",
        "Bonjour,\n\nmerci de rembourser sur le compte {iban} (titulaire {name_full}). La commande {order_id} n'est jamais arrivée.\n\nMerci",
    ),
    (
        "chat",
        "Client : Ma fille {name_full} est née le {dob}, peut-elle avoir son propre compte ?\nAgent : Seulement à partir de 15 ans, désolé.",
    ),
    (
        "crm",
        "Transmis à {name_full2}. Le client {name} a appelé du {phone} au sujet de la facture {neg_ticket} de {neg_amount} €.",
    ),
    ("log", "GET /api/v2/commandes/{neg_ticket} 200 client={ip} req={neg_uuid}"),
    (
        "form",
        "Enquête de satisfaction : 4/5. Prénom (facultatif) : {first}. Livraison au {address} avec {neg_qty} jours de retard.",
    ),
    (
        "email",
        "De : {name_full} <{email}>\nObjet : Mauvais article\n\nJ'ai commandé l'article {neg_sku} et reçu autre chose. Commande n° {order_id}.",
    ),
    (
        "chat",
        "Client : Bonjour, {name_full} à l'appareil. Ma carte {neg_bad_card} est refusée.\nAgent : Ce numéro ne semble pas valide, pouvez-vous vérifier ?",
    ),
]
ES: list[T] = [
    (
        "chat",
        "Cliente: Hola, me llamo {name_full} y no puedo entrar en mi cuenta.\nAgente: ¡Lo siento! ¿Qué correo tiene la cuenta?\nCliente: {email}\nAgente: Gracias, {first}. Le he enviado un enlace.",
    ),
    (
        "chat",
        "Agente: Para verificar su identidad, ¿me indica su fecha de nacimiento?\nCliente: {dob}\nAgente: Gracias. ¿Y su número de teléfono?\nCliente: {phone}",
    ),
    (
        "form",
        "Formulario de contacto\nNombre: {name}\nCorreo: {email}\nMensaje: la app se cierra desde la versión {neg_version}. Llámenme al {phone}, por favor.",
    ),
    (
        "email",
        "Hola:\n\npor favor cambien mi dirección de envío a {address}. Mi número de cliente es {user_id}.\n\nUn saludo,\n{name_full}",
    ),
    ("log", "2026-03-14T09:12:44Z INFO login ok user_id={user_id} ip={ip} request_id={neg_uuid}"),
    (
        "chat",
        "Cliente: ¡Me han cobrado dos veces el pedido {order_id}!\nAgente: Veo dos cargos de {neg_amount} €. ¿Me dice el número de la tarjeta?\nCliente: {card}",
    ),
    (
        "form",
        "Reembolso – datos bancarios\nTitular: {name_full}\nIBAN: {iban}\nMotivo: artículo defectuoso (ref. {neg_sku})",
    ),
    (
        "crm",
        "Nota de llamada: hablé con {name_title} sobre la renovación. Nacida el {dob}, enviar el contrato a {address}.",
    ),
    ("event", "track event=page_view visitor_id={cookie} path=/precios ts={neg_ts}"),
    ("event", "Instalación móvil: ID de publicidad {device}, versión {neg_version}, país ES"),
    ("event", "Carga de audiencia: correo hasheado {hashed_email}, consentimiento otorgado"),
    (
        "chat",
        "Agente: Hola {first}, gracias por esperar. El ticket {neg_ticket} está resuelto y el paquete {neg_tracking} va en camino.\nCliente: genial, vivo en {address}",
    ),
    (
        "email",
        "Hola a todos:\n\n{name_full} ({email}) pide borrar su cuenta. La solicitud vino de la IP {ip}, ID de dispositivo {device}.\n\nGracias,\n{name_full2}",
    ),
    (
        "form",
        "Solicitud de acceso RGPD\nNombre: {first}\nTeléfono: {phone}\nFecha de nacimiento: {dob}\nDirección: {address}",
    ),
    (
        "chat",
        "Cliente: El pedido lo hizo mi mujer, {name_full2}. Yo soy {name_full}.\nAgente: Entendido. ¿Cuál es el número de pedido?\nCliente: {order_id}",
    ),
    (
        "log",
        "DEBUG sincronización terminada job_id={neg_uuid} commit={neg_commit} duración={neg_time} filas={neg_qty}",
    ),
    (
        "email",
        "Estimada {name_title}:\n\nhemos recibido su solicitud desde {email}. Responderemos en 30 días.\n\nAtentamente,\nEquipo de Protección de Datos",
    ),
    (
        "chat",
        "Cliente: hola, soy {first} otra vez. Mi {neg_product} sigue sin conectarse, firmware {neg_version}\nAgente: ¿Cuál es su móvil?\nCliente: {phone}",
    ),
    ("form", "Baja de cuenta\nID de usuario: {user_id}\nCorreo: {email}\nFecha de nacimiento: {dob}"),
    ("event", "sincronización de cookies: _ga={cookie}, banner v{neg_port} mostrado a las {neg_time}"),
    (
        "log",
        "fallo de autenticación número de cliente {user_id} desde {ip} (intento {neg_qty}/5), trace_id={neg_uuid}",
    ),
    ("email", "Hola:\n¡Me he mudado! Nueva dirección: {address}. Nuevo móvil: {phone}.\nSaludos, {first}"),
    (
        "crm",
        "Contacto: {name_full}, tel. {phone}, interesado en el plan Pro. Lo conocimos en la feria de {neg_city} el {neg_date}.",
    ),
    (
        "chat",
        "Agente: ¿Qué correo electrónico usa?\nCliente: {email} o quizás {email2}\nAgente: Encontrado, {name_title}.",
    ),
    ("form", "Alta en newsletter: {email} | hash: {hashed_email} | origen=pie"),
    (
        "email",
        "Hola:\n\npor favor, devuelvan el importe a la cuenta {iban} (titular {name_full}). El pedido {order_id} nunca llegó.\n\nGracias",
    ),
    (
        "chat",
        "Cliente: Mi hija {name_full} nació el {dob}, ¿puede tener su propia cuenta?\nAgente: Solo a partir de los 14 años, lo siento.",
    ),
    (
        "crm",
        "Escalado a {name_full2}. El cliente {name} llamó desde el {phone} por la factura {neg_ticket} de {neg_amount} €.",
    ),
    ("log", "GET /api/v2/pedidos/{neg_ticket} 200 client={ip} req={neg_uuid}"),
    (
        "form",
        "Encuesta: 4/5. Nombre (opcional): {first}. La entrega en {address} llegó con {neg_qty} días de retraso.",
    ),
    (
        "email",
        "De: {name_full} <{email}>\nAsunto: Artículo equivocado\n\nPedí el artículo {neg_sku} y me llegó otro. Pedido nº {order_id}.",
    ),
    (
        "chat",
        "Cliente: Buenas, soy {name_full}. Mi tarjeta {neg_bad_card} no la aceptan.\nAgente: Ese número no parece válido, ¿puede comprobarlo?",
    ),
]
TEMPLATES = {"en": EN, "de": DE, "fr": FR, "es": ES}

NEG_EN: list[T] = [
    (
        "log",
        "deploy {neg_version} finished: commit {neg_commit}, image sha256:{neg_sha256}, build {neg_build}",
    ),
    ("log", "request_id={neg_uuid} trace_id={neg_uuid} span_id={neg_hex16} status=500 duration_ms={neg_qty}"),
    (
        "chat",
        "Agent: Your card ending in 4242 was declined. The number you gave, {neg_bad_card}, fails validation.\nCustomer: Will check and come back. May I pay by invoice?",
    ),
    (
        "form",
        "Product review: The {neg_product} is great. Ordered {neg_qty} units of {neg_sku} on {neg_date}, arrived at {neg_time}.",
    ),
    ("log", "Windows build {neg_version} updated; KB{neg_build}; checksum {neg_sha256}"),
    (
        "chat",
        "Customer: Paris office or London office, which one handles returns?\nAgent: London. Mark the parcel with ticket {neg_ticket} and drop it at any post office.",
    ),
    (
        "form",
        "Bug report: Chrome {neg_version} on macOS {neg_port}. Steps: open /orders, click 'Grant access', see error {neg_uuid}.",
    ),
    ("log", "price_update sku={neg_sku} old={neg_amount} new={neg_amount} effective={neg_ts}"),
    (
        "email",
        "Hi all, the June release ({neg_version}) ships on {neg_date}. Grant and May review items are in the tracker. Thanks, Release Team",
    ),
    ("log", "cache hit key=session:{neg_hex16} etag={neg_commit} ttl={neg_qty}"),
]
NEG_DE: list[T] = [
    ("log", "Deployment {neg_version} abgeschlossen: Commit {neg_commit}, Image sha256:{neg_sha256}"),
    ("log", "request_id={neg_uuid} trace_id={neg_uuid} status=500 dauer_ms={neg_qty}"),
    (
        "form",
        "Bewertung: Das {neg_product} ist super. {neg_qty} Stück Art.-Nr. {neg_sku} am {neg_date} bestellt, Lieferung um {neg_time} Uhr.",
    ),
    (
        "chat",
        "Kunde: Ist das Büro in {neg_city} am Montag offen?\nAgent: Ja, ab 9 Uhr. Ihr Ticket {neg_ticket} ist vermerkt.",
    ),
    (
        "email",
        "Hallo Team, Release {neg_version} kommt am {neg_date}. Sendungsnummer der Testgeräte: {neg_tracking}. Grüße, das Release-Team",
    ),
    ("log", "Preisänderung artikel={neg_sku} alt={neg_amount} neu={neg_amount} gültig_ab={neg_ts}"),
    (
        "chat",
        "Kunde: Die Kartennummer {neg_bad_card} wird abgelehnt.\nAgent: Die Prüfziffer stimmt nicht, bitte nochmal nachsehen.",
    ),
]
NEG_FR: list[T] = [
    ("log", "déploiement {neg_version} terminé : commit {neg_commit}, image sha256:{neg_sha256}"),
    ("log", "request_id={neg_uuid} trace_id={neg_uuid} statut=500 durée_ms={neg_qty}"),
    (
        "form",
        "Avis : le {neg_product} est top. Commandé {neg_qty} unités de {neg_sku} le {neg_date}, livré à {neg_time}.",
    ),
    (
        "chat",
        "Client : L'agence de {neg_city} est-elle ouverte lundi ?\nAgent : Oui, dès 9 h. Votre ticket {neg_ticket} est noté.",
    ),
    (
        "email",
        "Bonjour l'équipe, la version {neg_version} sort le {neg_date}. Numéro de suivi : {neg_tracking}. L'équipe release",
    ),
    ("log", "maj_prix sku={neg_sku} ancien={neg_amount} nouveau={neg_amount} effet={neg_ts}"),
]
NEG_ES: list[T] = [
    ("log", "despliegue {neg_version} terminado: commit {neg_commit}, imagen sha256:{neg_sha256}"),
    ("log", "request_id={neg_uuid} trace_id={neg_uuid} estado=500 duracion_ms={neg_qty}"),
    (
        "form",
        "Opinión: el {neg_product} es genial. Pedí {neg_qty} unidades de {neg_sku} el {neg_date}, llegó a las {neg_time}.",
    ),
    (
        "chat",
        "Cliente: ¿La oficina de {neg_city} abre el lunes?\nAgente: Sí, desde las 9. Su ticket {neg_ticket} queda anotado.",
    ),
    (
        "email",
        "Hola equipo, la versión {neg_version} sale el {neg_date}. Número de seguimiento: {neg_tracking}. Equipo de release",
    ),
    ("log", "cambio_precio sku={neg_sku} antes={neg_amount} ahora={neg_amount} desde={neg_ts}"),
]
NEGATIVE_ONLY = {"en": NEG_EN, "de": NEG_DE, "fr": NEG_FR, "es": NEG_ES}

# A second, freer set: phrasings and layouts the first set does not use (added after the detectors'
# first round, to keep the corpus from measuring only what the rules were written against).
EN += [
    ("chat", "hey there, {first} here 👋 quick q - can u change the number on my acct to {phone}? thx"),
    (
        "email",
        "To whom it may concern,\n\nI, {name_full}, DOB {dob}, hereby request a copy of all personal data you hold on me under Article 15 GDPR.\nPostal address: {address}\n\nYours faithfully,\n{name_full}",
    ),
    ("log", "Cookie: _ga={cookie}; _gid={cookie2}; theme=dark; lang=en-GB"),
    (
        "log",
        "{neg_ts} INFO checkout member #{user_id} paid with card **** **** **** 4242, shipping to {address}",
    ),
    (
        "crm",
        "Note from {name_full2}: caller said she is {name_full}, date of birth {dob}, but the account email ({email}) didn't match, so no changes were made.",
    ),
    (
        "chat",
        "Customer: The rep yesterday, I think her name was {first2}, said I'd get a refund to {iban}\nAgent: Let me check with {first2}.",
    ),
    (
        "form",
        "Loyalty card application | first name: {first} | surname: {name_full} | d.o.b. {dob} | mobile {phone}",
    ),
    ("event", "adjust callback: idfv={device} event=purchase revenue={neg_amount} currency=USD"),
    (
        "email",
        "Hi {first},\n\nYour parcel {neg_tracking} left our warehouse on {neg_date} and will be delivered to {address} by {neg_time}.\n\nThe Example Shop",
    ),
    (
        "chat",
        "Customer: I'm writing on behalf of my father, {name_title}. He was born in {dob} and can't use computers.\nAgent: We'd need his written consent, sorry.",
    ),
    (
        "log",
        "WARN rate limit exceeded for 2001:db8:{neg_port}::1? no -> src={ip} account={user_id} window=60s",
    ),
    (
        "form",
        "What went wrong? The app (v{neg_version}) showed someone else's profile - a {name_full} from {neg_city}! Please fix asap.",
    ),
    (
        "crm",
        "Fraud check: card {card} used from {ip} and {ip2}; cardholder {name_full} confirmed by phone ({phone}).",
    ),
    (
        "chat",
        "Agent: can you confirm the last digits of your card?\nCustomer: it's a Mastercard, the full number is {card}, expiry {neg_time}",
    ),
    ("event", "segment identify anonymousId={cookie} userId={user_id} traits.email={email}"),
]
DE += [
    ("chat", "hi, hier ist {first} 😊 könnt ihr meine nummer auf {phone} ändern? danke!"),
    (
        "email",
        "Sehr geehrte Damen und Herren,\n\nhiermit verlange ich, {name_full}, geb. {dob}, Auskunft nach Art. 15 DSGVO.\nMeine Anschrift: {address}\n\nMit freundlichen Grüßen\n{name_full}",
    ),
    ("log", "Cookie: _ga={cookie}; _gid={cookie2}; sprache=de"),
    (
        "crm",
        "Notiz von {name_full2}: Anruferin gab sich als {name_full} aus, geboren {dob}, E-Mail ({email}) stimmte aber nicht – keine Änderung vorgenommen.",
    ),
    (
        "chat",
        "Kunde: Die Mitarbeiterin gestern, ich glaube sie hieß {first2}, hat mir eine Erstattung auf {iban} zugesagt.\nAgent: Ich frage bei {first2} nach.",
    ),
    (
        "form",
        "Kundenkarte beantragen | Vorname: {first} | Name: {name_full} | Geb.-Datum {dob} | Mobil {phone}",
    ),
    ("event", "Tracking: Geräte-ID={device} Ereignis=Kauf Umsatz={neg_amount} EUR"),
    (
        "email",
        "Hallo {first},\n\nIhr Paket {neg_tracking} hat unser Lager am {neg_date} verlassen und wird an {address} geliefert.\n\nIhr Example-Shop",
    ),
    (
        "chat",
        "Kunde: Ich schreibe für meinen Vater, {name_title}. Er ist Jahrgang {dob} und kommt mit Computern nicht zurecht.\nAgent: Dafür bräuchten wir seine schriftliche Einwilligung.",
    ),
    (
        "form",
        "Was lief schief? Die App (v{neg_version}) zeigte das Profil von {name_full} aus {neg_city} an! Bitte dringend beheben.",
    ),
    (
        "crm",
        "Betrugsprüfung: Karte {card} genutzt von {ip}; Karteninhaber {name_full} telefonisch bestätigt ({phone}).",
    ),
    ("event", "segment identify anonymousId={cookie} userId={user_id} traits.email={email}"),
]
FR += [
    ("chat", "coucou c'est {first} 😊 vous pouvez changer mon numéro pour le {phone} ? merci"),
    (
        "email",
        "Madame, Monsieur,\n\nje soussigné(e) {name_full}, né(e) le {dob}, demande l'accès à mes données (art. 15 RGPD).\nAdresse postale : {address}\n\nVeuillez agréer mes salutations distinguées.\n{name_full}",
    ),
    ("log", "Cookie: _ga={cookie}; _gid={cookie2}; langue=fr"),
    (
        "crm",
        "Note de {name_full2} : l'appelante dit être {name_full}, date de naissance {dob}, mais l'e-mail ({email}) ne correspond pas, aucune modification.",
    ),
    (
        "chat",
        "Client : La conseillère d'hier, je crois qu'elle s'appelait {first2}, m'a promis un remboursement sur {iban}\nAgent : Je vérifie avec {first2}.",
    ),
    (
        "form",
        "Carte fidélité | prénom : {first} | nom : {name_full} | date de naissance {dob} | portable {phone}",
    ),
    ("event", "tracking : id appareil={device} événement=achat montant={neg_amount} EUR"),
    (
        "email",
        "Bonjour {first},\n\nvotre colis {neg_tracking} a quitté l'entrepôt le {neg_date} et sera livré au {address}.\n\nExample Boutique",
    ),
    (
        "chat",
        "Client : J'écris pour mon père, {name_title}. Il est né le {dob} et n'utilise pas d'ordinateur.\nAgent : Il nous faudrait son accord écrit.",
    ),
    (
        "form",
        "Quel est le problème ? L'appli (v{neg_version}) affichait le profil de {name_full} de {neg_city} ! À corriger d'urgence.",
    ),
    (
        "crm",
        "Contrôle fraude : carte {card} utilisée depuis {ip} ; titulaire {name_full} confirmé par téléphone ({phone}).",
    ),
    ("event", "segment identify anonymousId={cookie} userId={user_id} traits.email={email}"),
]
ES += [
    ("chat", "holaa soy {first} 😊 me podéis cambiar el número a {phone}? gracias!"),
    (
        "email",
        "Muy señores míos:\n\nyo, {name_full}, con fecha de nacimiento {dob}, solicito acceso a mis datos (art. 15 RGPD).\nDomicilio: {address}\n\nAtentamente,\n{name_full}",
    ),
    ("log", "Cookie: _ga={cookie}; _gid={cookie2}; idioma=es"),
    (
        "crm",
        "Nota de {name_full2}: la llamante dijo ser {name_full}, nacida el {dob}, pero el correo ({email}) no coincidía; no se hicieron cambios.",
    ),
    (
        "chat",
        "Cliente: La agente de ayer, creo que se llamaba {first2}, me prometió un reembolso a {iban}\nAgente: Lo consulto con {first2}.",
    ),
    (
        "form",
        "Tarjeta de fidelidad | nombre: {first} | apellidos: {name_full} | f. nac. {dob} | móvil {phone}",
    ),
    ("event", "tracking: id de dispositivo={device} evento=compra importe={neg_amount} EUR"),
    (
        "email",
        "Hola {first}:\n\nsu paquete {neg_tracking} salió del almacén el {neg_date} y se entregará en {address}.\n\nExample Tienda",
    ),
    (
        "chat",
        "Cliente: Escribo por mi padre, {name_title}. Nació el {dob} y no sabe usar el ordenador.\nAgente: Necesitaríamos su consentimiento por escrito.",
    ),
    (
        "form",
        "¿Qué falló? La app (v{neg_version}) mostró el perfil de {name_full} de {neg_city}. ¡Arreglarlo ya!",
    ),
    (
        "crm",
        "Control de fraude: tarjeta {card} usada desde {ip}; titular {name_full} confirmado por teléfono ({phone}).",
    ),
    ("event", "segment identify anonymousId={cookie} userId={user_id} traits.email={email}"),
]
TEMPLATES = {"en": EN, "de": DE, "fr": FR, "es": ES}
