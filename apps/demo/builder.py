"""Demo data for the quick start (not a command: Django skips modules starting with "_").

Aurora Home, an online home-goods shop in Spain, answers customers who write in Spanish
and English on every channel. Everything here is pure: it builds InboundMessages (the
seed) and API payload dicts (the simulator); the commands save or send them.
"""
import hashlib
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime

from apps.connectors.twitter.parse import dm_pair
from apps.inbox.inbound import InboundMessage, SenderIdentity

COMPANY = "Aurora Home"

# (username, role, first name, last name, password, teams)
USERS = [
    ("admin", "admin", "Alba", "Admin", "admin-demo-2026", []),
    ("supervisor", "supervisor", "Marina", "Ruiz", "supervisor-demo-2026", []),
    ("laura", "agent", "Laura", "Sánchez", "laura-demo-2026", ["Soporte"]),
    ("david", "agent", "David", "Ortiz", "david-demo-2026", ["Social"]),
    ("sara", "agent", "Sara", "Kim", "sara-demo-2026", ["Soporte", "Social"]),
]
TEAMS = ["Soporte", "Social"]

# (kind, name, team, settings): each account's team receives its new work (routing, least loaded).
API_ACCOUNT_NAME = "Order system (API)"
ACCOUNTS = [
    ("api", API_ACCOUNT_NAME, "Soporte", {"description": "Messages customers leave on their order page"}),
    ("email", "support@aurorahome.example", "Soporte", {"address": "support@aurorahome.example"}),
    ("phone", "+34 910 555 123", "Soporte", {"number": "+34910555123", "provider": "twilio"}),
    ("webform", "Contact form", "Soporte", {"url": "https://aurorahome.example/contacto"}),
    ("twitter", "@AuroraHome", "Social", {"handle": "AuroraHome", "user_id": "1500000000000000001"}),
    ("facebook", "Aurora Home (page)", "Social", {"page_id": "104857600123456"}),
]
OUR_TWITTER_ID = "1500000000000000001"

# Which channels each kind of customer used, in order. "api+twitter" is a message from the
# order system that knows the customer's email and social login: it links the identities.
JOURNEYS = {
    "omni": ["webform", "email", "phone", "api+twitter", "twitter_dm"],
    "omni_fb": ["api+phone", "phone", "api+facebook", "facebook"],
    "email": ["email"],
    "email2": ["email", "email"],
    "email_phone": ["api+phone", "email", "phone"],
    "twitter": ["twitter"],
    "twitter_dm": ["twitter", "twitter_dm"],
    "facebook": ["facebook"],
    "phone": ["phone"],
    "phone_email": ["webform", "phone", "email"],
    "webform": ["webform"],
    "api": ["api"],
    # Wrote by email and on Twitter as two people; the order system then names both:
    # ingest records a merge suggestion instead of merging silently.
    "conflict": ["email", "twitter", "api+twitter"],
}

PEOPLE = [  # (name, language, journey)
    ("Lucía Fernández", "es", "omni"),
    ("Javier Moreno", "es", "email2"),
    ("Carmen Ruiz", "es", "phone_email"),
    ("Alejandro Gómez", "es", "twitter_dm"),
    ("María José Navarro", "es", "omni_fb"),
    ("Pablo Herrera", "es", "email"),
    ("Elena Castillo", "es", "facebook"),
    ("Diego Romero", "es", "conflict"),
    ("Isabel Ortega", "es", "webform"),
    ("Sergio Vázquez", "es", "phone"),
    ("Marta Delgado", "es", "email_phone"),
    ("Raúl Jiménez", "es", "twitter"),
    ("Nuria Serrano", "es", "omni"),
    ("Andrés Molina", "es", "api"),
    ("Beatriz Cabrera", "es", "facebook"),
    ("Tomás Prieto", "es", "email"),
    ("Rocío Vidal", "es", "phone_email"),
    ("Iván Santos", "es", "twitter"),
    ("Patricia León", "es", "email2"),
    ("Óscar Gil", "es", "phone"),
    ("Ainhoa Etxeberria", "es", "webform"),
    ("Jordi Puig", "es", "api"),
    ("Valentina Rojas", "es", "omni_fb"),
    ("Mateo Álvarez", "es", "email"),
    ("Emily Carter", "en", "omni"),
    ("James O'Connor", "en", "email"),
    ("Sophie Turner", "en", "twitter_dm"),
    ("Daniel Hughes", "en", "email_phone"),
    ("Olivia Bennett", "en", "facebook"),
    ("Liam Walsh", "en", "phone"),
    ("Grace Mitchell", "en", "omni_fb"),
    ("Noah Patel", "en", "api"),
    ("Hannah Brooks", "en", "webform"),
    ("Ethan Reid", "en", "twitter"),
    ("Chloe Evans", "en", "email2"),
    ("Samuel Price", "en", "phone_email"),
    ("Priya Shah", "en", "email"),
    ("Lucas Martin", "en", "facebook"),
    ("Amelia Scott", "en", "conflict"),
    ("Ryan Cooper", "en", "twitter"),
]

PRODUCTS = {
    "es": ["la lámpara de pie Nórdica", "el juego de sábanas de lino", "el sofá Lisboa", "la mesa de centro de roble",
           "la cafetera italiana", "la alfombra de yute"],
    "en": ["the Nordic floor lamp", "the linen bed sheet set", "the Lisboa sofa", "the oak coffee table",
           "the moka pot", "the jute rug"],
}

# Per topic and language: subject, long body (email), short text (social, order page),
# the agent's reply and the customer's follow-up ("" = none).
TOPICS = {
    "late": {
        "priority": 1,
        "es": ("Pedido {order} sin entregar",
               "Hola:\n\nHice el pedido {order} ({product}) hace diez días y todavía no ha llegado. "
               "El seguimiento no se mueve desde el martes.\n\n¿Me podéis decir qué está pasando?\n\nGracias,\n{name}",
               "Mi pedido {order} lleva diez días 'en tránsito' y nadie me dice nada. ¿Alguien me ayuda?",
               "Hola {first}, sentimos mucho el retraso. Hemos abierto una reclamación con la agencia y hoy mismo "
               "te enviamos un nuevo número de seguimiento.",
               "Gracias. Ya me ha llegado el nuevo seguimiento, a ver si esta vez hay suerte."),
        "en": ("Order {order} still not delivered",
               "Hi,\n\nI placed order {order} ({product}) ten days ago and it still hasn't arrived. "
               "The tracking hasn't moved since Tuesday.\n\nCould you tell me what's going on?\n\nThanks,\n{name}",
               "My order {order} has been 'in transit' for ten days and nobody is telling me anything. Can anyone help?",
               "Hi {first}, we're really sorry about the delay. We've opened a claim with the courier and will send "
               "you a new tracking number today.",
               "Thanks, I've got the new tracking number. Fingers crossed this time."),
    },
    "refund": {
        "priority": 1,
        "es": ("Devolución del pedido {order}",
               "Buenas tardes:\n\nDevolví {product} del pedido {order} hace dos semanas y aún no he recibido el "
               "reembolso de {amount} €. Tengo el justificante de la agencia.\n\nUn saludo,\n{name}",
               "Devolví mi pedido {order} hace dos semanas y el reembolso no aparece. ¿Cuánto tarda?",
               "Hola {first}, el almacén confirmó la recepción ayer. El reembolso de {amount} € se emitió esta "
               "mañana y verás el abono en 3-5 días hábiles.",
               "Perfecto, ya lo veo en el banco. ¡Gracias!"),
        "en": ("Refund for order {order}",
               "Good afternoon,\n\nI returned {product} from order {order} two weeks ago and still haven't "
               "received the €{amount} refund. I have the courier receipt.\n\nKind regards,\n{name}",
               "Returned order {order} two weeks ago and the refund still isn't showing. How long does it take?",
               "Hi {first}, the warehouse confirmed they received it yesterday. The €{amount} refund was issued "
               "this morning and should reach your account within 3–5 working days.",
               "Perfect, I can see it in my bank now. Thank you!"),
    },
    "damaged": {
        "priority": 2,
        "es": ("Producto dañado en el pedido {order}",
               "Hola:\n\nAcabo de recibir el pedido {order}: la caja venía aplastada y {product} ha llegado "
               "dañado. Os puedo mandar fotos.\n\n¿Me podéis enviar uno nuevo?\n\n{name}",
               "Me ha llegado el pedido {order} con la caja destrozada y el producto dañado 😞",
               "Hola {first}, lo sentimos muchísimo. Te enviamos un reemplazo sin coste esta semana; el mensajero "
               "recogerá el dañado en la misma visita.",
               "Muchas gracias por la rapidez."),
        "en": ("Damaged item in order {order}",
               "Hi,\n\nI've just opened order {order}: the box was crushed and {product} is damaged. "
               "I can send photos.\n\nCan you send a replacement?\n\n{name}",
               "Order {order} just arrived with the box crushed and the item damaged 😞",
               "Hi {first}, we're so sorry. We're sending a free replacement this week, and the courier will "
               "collect the damaged one on the same visit.",
               "Thanks for sorting it so quickly."),
    },
    "invoice": {
        "priority": 0,
        "es": ("Factura del pedido {order}",
               "Hola:\n\nNecesito la factura del pedido {order} a nombre de mi empresa. Datos fiscales: "
               "{last} Interiores S.L., CIF B12345678, Calle Mayor 12, Madrid.\n\nGracias,\n{name}",
               "¿Cómo pido la factura del pedido {order}? No la encuentro en mi cuenta.",
               "Hola {first}, te acabamos de enviar la factura por email. También la tienes en "
               "Mi cuenta › Pedidos › {order}.",
               "Recibida, gracias."),
        "en": ("Invoice for order {order}",
               "Hello,\n\nCould you issue a VAT invoice for order {order} in my company's name? "
               "{last} Design Ltd, 12 High Street, Bristol BS1 2AW.\n\nThanks,\n{name}",
               "How do I get an invoice for order {order}? I can't find it in my account.",
               "Hi {first}, we've just emailed you the invoice. You can also find it under "
               "My account › Orders › {order}.",
               "Got it, thanks."),
    },
    "address": {
        "priority": 2,
        "es": ("Cambiar la dirección de entrega",
               "Hola, me he equivocado al poner la dirección en el pedido {order}. La correcta es "
               "Calle de Alcalá 120, 3º B, 28009 Madrid. ¿Todavía se puede cambiar?\n\n{name}",
               "¿Puedo cambiar la dirección del pedido {order}? Me equivoqué de piso.",
               "Hola {first}, ya está cambiada: el pedido {order} aún no había salido del almacén.",
               "¡Genial, gracias!"),
        "en": ("Change of delivery address",
               "Hi, I put the wrong address on order {order}. It should be 42 Elm Road, Flat 3, "
               "Manchester M14 5RT. Is it still possible to change it?\n\n{name}",
               "Can I still change the delivery address on order {order}? Typo in the flat number.",
               "Hi {first}, done — order {order} hadn't left the warehouse yet, so the new address is on it.",
               "Brilliant, thank you!"),
    },
    "login": {
        "priority": 1,
        "es": ("No puedo entrar en mi cuenta",
               "Hola, llevo dos días sin poder entrar en mi cuenta. Pido restablecer la contraseña pero el "
               "correo no llega (he mirado en spam).\n\n{name}",
               "No me llega el correo para cambiar la contraseña. ¿Le pasa a alguien más?",
               "Hola {first}, tu cuenta se bloqueó tras varios intentos. Ya la hemos desbloqueado; prueba de "
               "nuevo y dinos si llega el correo.",
               "Ahora sí, ya he entrado."),
        "en": ("Can't log in to my account",
               "Hi, I haven't been able to log in for two days. I request a password reset but the email "
               "never arrives (I checked spam).\n\n{name}",
               "The password reset email never arrives. Anyone else?",
               "Hi {first}, your account was locked after several attempts. We've unlocked it — please try "
               "again and let us know if the email arrives.",
               "That worked, I'm in now."),
    },
    "double_charge": {
        "priority": 3,
        "es": ("Cobro duplicado",
               "Hola:\n\nMe habéis cobrado dos veces el pedido {order} ({amount} € cada cargo). Necesito que "
               "me devolváis uno cuanto antes.\n\n{name}",
               "Me habéis cobrado DOS veces el pedido {order}. Espero una solución hoy.",
               "Hola {first}, tienes razón: el segundo cargo fue un error en el pago. Lo hemos anulado y "
               "desaparecerá en 24-48 h.",
               "Vale, ya no aparece. Gracias."),
        "en": ("Charged twice",
               "Hello,\n\nI've been charged twice for order {order} (€{amount} each time). Please refund one "
               "of them as soon as possible.\n\n{name}",
               "You've charged me TWICE for order {order}. I expect this fixed today.",
               "Hi {first}, you're right — the second charge was a payment error. We've voided it and it will "
               "disappear within 24–48 hours.",
               "OK, it's gone now. Thanks."),
    },
    "warranty": {
        "priority": 1,
        "es": ("Garantía del pedido {order}",
               "Hola, compré {product} hace ocho meses (pedido {order}) y ha aparecido un defecto de "
               "fabricación. ¿Entra en la garantía?\n\n{name}",
               "¿Cómo reclamo la garantía del pedido {order}?",
               "Hola {first}, sí, tienes dos años de garantía. Te hemos enviado por email una etiqueta de "
               "devolución gratuita.",
               "Recibida la etiqueta, lo envío mañana."),
        "en": ("Warranty claim for order {order}",
               "Hi, I bought {product} eight months ago (order {order}) and it has developed a manufacturing "
               "fault. Is it covered by the warranty?\n\n{name}",
               "How do I make a warranty claim for order {order}?",
               "Hi {first}, yes, it's covered for two years. We've emailed you a free return label.",
               "Got the label, I'll send it tomorrow."),
    },
    "product": {
        "priority": 0,
        "es": ("Pregunta sobre un producto",
               "Hola, antes de comprar {product}: ¿tenéis las medidas exactas y el plazo de entrega a "
               "Valencia?\n\n{name}",
               "¿Tenéis {product} en otro color?",
               "Hola {first}, te enviamos la ficha del producto con medidas y colores disponibles. El plazo de "
               "entrega es de 48-72 h.",
               "Gracias, lo acabo de pedir."),
        "en": ("Question about a product",
               "Hi, before I buy {product}: do you have the exact dimensions, and how long is delivery to "
               "Dublin?\n\n{name}",
               "Do you have {product} in another colour?",
               "Hi {first}, we've sent you the product sheet with dimensions and available colours. Delivery "
               "takes 3–5 working days.",
               "Thanks, I've just ordered it."),
    },
    "thanks": {
        "priority": 0,
        "es": ("Gracias",
               "Solo quería daros las gracias: el pedido {order} llegó antes de lo previsto y los montadores "
               "fueron muy amables.\n\n{name}",
               "Pedido {order} en 24 h y perfecto. ¡Enhorabuena al equipo! 👏",
               "¡Muchas gracias, {first}! Se lo trasladamos al equipo 😊",
               ""),
        "en": ("Thank you",
               "Just wanted to say thank you: order {order} came early and the delivery team were lovely.\n\n{name}",
               "Order {order} arrived in 24h and it's perfect. Well done, team! 👏",
               "Thank you so much, {first}! We'll pass it on to the team 😊",
               ""),
    },
}
SIGN_OFF = {"es": "\n\nUn saludo,\n{agent} · Aurora Home", "en": "\n\nBest regards,\n{agent} · Aurora Home"}
# The public contact form the demo serves at /f/contacto/: (name, label, type, required).
DEMO_FORM_SLUG = "contacto"
DEMO_FORM_FIELDS = [
    ("name", "Nombre", "text", True),
    ("email", "Email", "email", True),
    ("phone", "Teléfono", "tel", False),
    ("topic", "Tema", "text", False),
    ("message", "Mensaje", "textarea", True),
]
FORM_LABELS = {
    "es": ("Nombre", "Email", "Teléfono", "Pedido", "Mensaje", "Formulario de contacto"),
    "en": ("Name", "Email", "Phone", "Order", "Message", "Contact form"),
}
EMAIL_DOMAINS = {
    "es": ["gmail.com", "hotmail.es", "yahoo.es", "outlook.es", "icloud.com", "telefonica.net"],
    "en": ["gmail.com", "outlook.com", "yahoo.co.uk", "icloud.com", "btinternet.com", "proton.me"],
}


# --- people -------------------------------------------------------------------------------


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


@dataclass(frozen=True)
class Person:
    index: int
    name: str
    lang: str
    journey: str

    @property
    def first(self) -> str:
        return self.name.split()[0]

    @property
    def last(self) -> str:
        return self.name.split()[-1]

    @property
    def email(self) -> str:
        domains = EMAIL_DOMAINS[self.lang]
        return f"{ascii_slug(self.first)}.{ascii_slug(self.last)}@{domains[self.index % len(domains)]}"

    @property
    def phone_e164(self) -> str:
        if self.lang == "es":
            return f"+346{12000000 + self.index * 104729 % 87999999:08d}"
        return f"+447700900{100 + self.index:03d}"  # Ofcom's range reserved for fiction

    def phone_as_written(self, variant: int) -> str:
        """People type their number differently on each channel; identities normalize it."""
        if self.lang != "es":
            return "+44 7700 900" + self.phone_e164[-3:]
        national = self.phone_e164[3:]
        return [f"{national[:3]} {national[3:5]} {national[5:7]} {national[7:]}", f"0034{national}",
                f"+34 {national[:3]} {national[3:6]} {national[6:]}"][variant % 3]

    @property
    def twitter_id(self) -> str:
        return str(1_300_000_000_000_000_000 + self.index * 1_000_003)

    @property
    def twitter_handle(self) -> str:
        return f"@{ascii_slug(self.first)}_{ascii_slug(self.last)[:4]}{self.index:02d}"

    @property
    def psid(self) -> str:
        return str(7_000_000_000_000_000 + self.index * 7919)


def people() -> list[Person]:
    return [Person(i + 1, name, lang, journey) for i, (name, lang, journey) in enumerate(PEOPLE)]


# --- the seed: one Story per conversation ----------------------------------------------------


@dataclass
class Story:
    """One conversation on one channel: its messages and where it should end up."""

    channel: str  # ChannelAccount kind
    person: Person
    step: int
    messages: list[InboundMessage]
    agent: str | None = None  # username of the agent who replied (the "out" messages)
    status: str = "open"
    assignee: str | None = None
    outbound_ids: list[str] = field(default_factory=list)
    resolved_at: datetime | None = None  # when an agent resolved it (the seed dates the audit event so)


# Closed work of the past weeks (reports and SLA views have history on first start): every other
# person also wrote once 10 to 35 days ago, on the first channel of their journey.
ARCHIVE_DAYS = (10, 35)
ARCHIVE_STEP = 20  # the archive story's step number: its ids never meet a journey step's


AGENTS_BY_CHANNEL = {
    "email": ["laura", "sara"], "phone": ["laura", "sara"], "webform": ["laura", "sara"], "api": ["laura", "david", "sara"],
    "twitter": ["david", "sara"], "facebook": ["david", "sara"],
}


class DemoBuilder:
    """Deterministic for a given seed: the same external ids every run, so seeding is idempotent."""

    def __init__(self, *, account_ids: dict[str, int], now: datetime, seed: int = 2026):
        self.account_ids = account_ids
        self.now = now
        self.seed = seed
        self.rng = random.Random(seed)
        self.topics = list(TOPICS)

    def stories(self) -> list[Story]:
        result = []
        for person in people():
            steps = JOURNEYS[person.journey]
            # Each person's history spans a few hours to nine days, ending before now.
            start = self.now - timedelta(hours=self.rng.uniform(3, 216))
            span = self.now - start
            for n, step in enumerate(steps):
                at = start + span * n / len(steps) + timedelta(minutes=self.rng.uniform(0, 20))
                topic = self.topics[(person.index * 3 + n) % len(self.topics)]
                result.append(self._story(person, step, n, topic, at))
        for person in people()[::2]:
            step = next((s for s in JOURNEYS[person.journey] if not s.startswith(("phone", "webform"))), "email")
            at = self.now - timedelta(days=self.rng.uniform(*ARCHIVE_DAYS))
            topic = self.topics[(person.index * 5) % len(self.topics)]
            result.append(self._story(person, step, ARCHIVE_STEP, topic, at))
        return result

    # A step: first message from the customer; maybe an agent reply; maybe a follow-up.
    def _story(self, person: Person, step: str, n: int, topic: str, at: datetime) -> Story:
        kind = step.split("+")[0].removesuffix("_dm")
        ctx = self._context(person, n, topic)
        subject, body, short, reply, followup = (s.format(**ctx) for s in TOPICS[topic][person.lang])
        reply_at = at + timedelta(minutes=self.rng.uniform(6, 150))
        followup_at = reply_at + timedelta(minutes=self.rng.uniform(15, 400))
        answered = kind != "phone" and reply_at < self.now - timedelta(minutes=2) and self.rng.random() < 0.75
        followed = answered and followup and followup_at < self.now and self.rng.random() < 0.5
        story = Story(channel=kind, person=person, step=n, messages=[])
        if answered:
            story.agent = self.rng.choice(AGENTS_BY_CHANNEL[kind])
        build = getattr(self, f"_{step.replace('+', '_link_')}")
        build(story, ctx, n, at, subject, body, short, reply if answered else "", reply_at,
              followup if followed else "", followup_at)
        for m in story.messages:
            m.priority = TOPICS[topic]["priority"] if m is story.messages[0] else None
        self._settle(story, at, answered, followed)
        return story

    def _context(self, person: Person, n: int, topic: str) -> dict:
        products = PRODUCTS[person.lang]
        return {
            "order": f"AH-{204000 + person.index * 37 + n}",
            "product": products[(person.index + n) % len(products)],
            "amount": f"{49 + (person.index * 13 + n * 7) % 400},{(person.index * 7) % 100:02d}"
            if person.lang == "es" else f"{49 + (person.index * 13 + n * 7) % 400}.{(person.index * 7) % 100:02d}",
            "name": person.name, "first": person.first, "last": person.last,
        }

    def _settle(self, story: Story, at: datetime, answered: bool, followed: bool) -> None:
        """Older conversations are mostly resolved; answered ones wait for the customer."""
        age = self.now - at
        if story.channel == "phone":
            missed = story.messages[0].metadata["call"]["needs_callback"]
            story.status = "open" if missed and age < timedelta(days=2) else "resolved"
        elif answered and age > timedelta(hours=36):
            story.status = "resolved" if self.rng.random() < 0.85 else "pending"
        elif answered:
            story.status = "open" if followed else "pending"
        else:
            story.status = "open"
        if story.status == "resolved":
            # Resolved some time after the last message: minutes on social networks, hours by email.
            last = max(m.sent_at for m in story.messages)
            hours = self.rng.uniform(0.2, 3) if story.channel in ("twitter", "facebook", "api") else self.rng.uniform(1, 30)
            story.resolved_at = min(last + timedelta(hours=hours), self.now - timedelta(minutes=1))
        if answered and story.status != "resolved":
            story.assignee = story.agent
        elif story.status == "open" and self.rng.random() < 0.3:
            story.assignee = self.rng.choice(AGENTS_BY_CHANNEL[story.channel])

    # -- message shapes per channel ------------------------------------------------------------

    def _id(self, story: Story, role: str, bits: int = 64) -> str:
        # Ids hash the story's place, not the random stream: stable whatever "now" decided.
        digest = hashlib.sha256(f"{self.seed}:{story.person.index}:{story.step}:{role}".encode()).hexdigest()
        return digest[: bits // 4]

    def _message(self, channel: str, person: Person, senders, at, **kwargs) -> InboundMessage:
        return InboundMessage(account_id=self.account_ids[channel], senders=senders, sent_at=at, **kwargs)

    def _out(self, story: Story, channel: str, at, external_id: str, text: str, **kwargs) -> None:
        # The reply as seen on the channel; threaded by references like a provider echo.
        # The customer's identity is given so it resolves to the same customer.
        story.outbound_ids.append(external_id)
        story.messages.append(
            self._message(channel, story.person, story.messages[0].senders[:1], at, external_id=external_id,
                          text=text, direction="out", **kwargs)
        )

    def _email(self, story, ctx, n, at, subject, body, short, reply, reply_at, followup, followup_at):
        p = story.person
        sender = [SenderIdentity("email", p.email.upper() if n % 2 else p.email, display_name=p.name, handle=p.email)]
        root = f"<{self._id(story, 'root')}.{self._id(story, 'root2', 32)}@mail.{p.email.split('@')[1]}>"
        html = "".join(f"<p>{line}</p>" for line in body.split("\n\n"))
        story.messages.append(self._message("email", p, sender, at, external_id=root, thread_key=root,
                                            subject=subject, text=body, html=html,
                                            metadata={"from": f"{p.name} <{p.email}>"}))
        if reply:
            reply_id = f"<{self._id(story, 'reply')}@aurorahome.example>"
            signature = SIGN_OFF[p.lang].format(agent=_first_name(story.agent))
            self._out(story, "email", reply_at, reply_id, reply + signature, thread_key=root,
                      references=[root], subject=f"Re: {subject}")
            if followup:
                story.messages.append(self._message(
                    "email", p, sender, followup_at, external_id=f"<{self._id(story, 'followup')}@mail.{p.email.split('@')[1]}>",
                    thread_key=root, references=[root, reply_id], subject=f"Re: {subject}",
                    text=f"{followup}\n\n{p.first}"))

    def _tweet_id(self, story: Story, role: str) -> str:
        return str(1_860_000_000_000_000_000 + int(self._id(story, role, 56), 16))

    def _twitter(self, story, ctx, n, at, subject, body, short, reply, reply_at, followup, followup_at, dm=False):
        p = story.person
        sender = [SenderIdentity("twitter", p.twitter_id, display_name=p.name, handle=p.twitter_handle)]
        first_id = self._tweet_id(story, "first")
        if dm:
            # X's id of the one-to-one DM conversation, as its webhook and API give it (lower id first):
            # the customer's answer to a DM threads into this conversation.
            conversation_id = dm_pair(OUR_TWITTER_ID, p.twitter_id)
            thread, text, public = f"dm:{conversation_id}", short, False
        else:
            thread, text, public = first_id, f"@AuroraHome {short}", True
            conversation_id = thread
        story.messages.append(self._message("twitter", p, sender, at, external_id=first_id, thread_key=thread,
                                            text=text, is_public=public,
                                            metadata={"twitter": {
                                                "dm_event_id" if dm else "tweet_id": first_id, "conversation_id": conversation_id,
                                                "author_id": p.twitter_id, "author_handle": p.twitter_handle,
                                                "url": "" if dm else f"https://x.com/{p.twitter_handle.lstrip('@')}/status/{first_id}"}}))
        if reply:
            reply_id = self._tweet_id(story, "reply")
            text = reply if dm else f"{p.twitter_handle} {reply}"[:280]
            self._out(story, "twitter", reply_at, reply_id, text, thread_key=thread, references=[first_id],
                      is_public=public)
            if followup:
                story.messages.append(self._message(
                    "twitter", p, sender, followup_at, external_id=self._tweet_id(story, "followup"), thread_key=thread,
                    references=[reply_id], is_public=public,
                    text=followup if dm else f"@AuroraHome {followup}"))

    def _twitter_dm(self, *args):
        self._twitter(*args, dm=True)

    def _facebook(self, story, ctx, n, at, subject, body, short, reply, reply_at, followup, followup_at):
        p = story.person
        sender = [SenderIdentity("facebook", p.psid, display_name=p.name)]
        story.messages.append(self._message("facebook", p, sender, at, external_id=f"m_{self._id(story, 'first', 96)}",
                                            thread_key=p.psid, text=short,
                                            metadata={"facebook": {"mid": f"m_{self._id(story, 'first', 96)}", "psid": p.psid,
                                                                   "hidden": False, "can_hide": False}}))
        if reply:
            self._out(story, "facebook", reply_at, f"m_{self._id(story, 'reply', 96)}", reply, thread_key=p.psid)
            if followup:
                story.messages.append(self._message("facebook", p, sender, followup_at,
                                                    external_id=f"m_{self._id(story, 'followup', 96)}", thread_key=p.psid,
                                                    text=followup))

    def _phone(self, story, ctx, n, at, *rest):
        p = story.person
        answered = self.rng.random() < 0.75
        seconds = self.rng.randint(45, 600) if answered else 0
        text = f"Inbound call · answered · {seconds // 60}:{seconds % 60:02d}" if answered else "Missed call (no answer)"
        caller = p.phone_as_written(n)
        story.messages.append(self._message(
            "phone", p, [SenderIdentity("phone", caller, display_name=p.name, handle=caller)], at,
            external_id=f"CA{self._id(story, 'call', 128)}", kind="call", text=text,
            metadata={"call": {"from": p.phone_e164, "to": "+34910555123", "direction": "inbound",
                               "status": "completed" if answered else "no-answer", "started_at": at.isoformat(),
                               "duration_seconds": seconds, "recording_url": "", "needs_callback": not answered,
                               "source": "twilio", "notes": "", "logged_by": None}}))

    def _webform(self, story, ctx, n, at, subject, body, short, reply, reply_at, followup, followup_at):
        p = story.person
        name_l, email_l, phone_l, order_l, message_l, form_l = FORM_LABELS[p.lang]
        phone = p.phone_as_written(n + 1)
        text = f"{name_l}: {p.name}\n{email_l}: {p.email}\n{phone_l}: {phone}\n{order_l}: {ctx['order']}\n{message_l}: {short}"
        senders = [SenderIdentity("email", p.email, display_name=p.name), SenderIdentity("phone", phone, display_name=p.name)]
        story.messages.append(self._message("webform", p, senders, at, external_id=f"form-{self._id(story, 'first')}", kind="form",
                                            subject=f"{form_l}: {subject}", text=text,
                                            metadata={"form": {"slug": "contacto", "title": form_l, "fields": [
                                                {"name": "name", "label": name_l, "value": p.name},
                                                {"name": "email", "label": email_l, "value": p.email},
                                                {"name": "phone", "label": phone_l, "value": phone},
                                                {"name": "order", "label": order_l, "value": ctx["order"]},
                                                {"name": "message", "label": message_l, "value": short}]}}))
        if reply:
            self._out(story, "webform", reply_at, f"form-reply-{self._id(story, 'reply')}",
                      reply + SIGN_OFF[p.lang].format(agent=_first_name(story.agent)), references=[story.messages[0].external_id])

    def _api(self, story, ctx, n, at, subject, body, short, reply, reply_at, followup, followup_at, extra=()):
        p = story.person
        senders = [SenderIdentity("email", p.email, display_name=p.name), *extra]
        thread = f"order-{ctx['order']}"
        story.messages.append(self._message("api", p, senders, at, external_id=f"crm-{self._id(story, 'first', 48)}", thread_key=thread,
                                            subject=subject, text=short, metadata={"api": {"order": ctx["order"]}}))
        if reply:
            reply_id = f"crm-reply-{self._id(story, 'reply', 48)}"
            self._out(story, "api", reply_at, reply_id, reply, thread_key=thread, references=[story.messages[0].external_id])
            if followup:
                story.messages.append(self._message("api", p, senders, followup_at, external_id=f"crm-{self._id(story, 'followup', 48)}",
                                                    thread_key=thread, text=followup, references=[reply_id]))

    def _api_link_twitter(self, story, ctx, n, at, *rest):
        p = story.person
        self._api(story, ctx, n, at, *rest, extra=[SenderIdentity("twitter", p.twitter_id, display_name=p.name,
                                                                  handle=p.twitter_handle)])

    def _api_link_facebook(self, story, ctx, n, at, *rest):
        self._api(story, ctx, n, at, *rest, extra=[SenderIdentity("facebook", story.person.psid, display_name=story.person.name)])

    def _api_link_phone(self, story, ctx, n, at, *rest):
        p = story.person
        self._api(story, ctx, n, at, *rest, extra=[SenderIdentity("phone", p.phone_as_written(n + 2), display_name=p.name)])


def _first_name(username: str | None) -> str:
    for user in USERS:
        if user[0] == username:
            return user[2]
    return COMPANY


# --- the simulator: API-channel payloads -----------------------------------------------------

FIRST_NAMES = {
    "es": ["Ana", "Carlos", "Lucía", "Miguel", "Paula", "Hugo", "Irene", "Adrián", "Sofía", "Álvaro", "Laia", "Marcos"],
    "en": ["Jack", "Emma", "Oliver", "Isla", "Harry", "Mia", "George", "Ava", "Charlie", "Freya", "Leo", "Ruby"],
}
LAST_NAMES = {
    "es": ["García", "Martínez", "López", "Sánchez", "Pérez", "Muñoz", "Rubio", "Ibáñez", "Soler", "Marín"],
    "en": ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Wright", "Hall"],
}
NUDGES = {
    "es": ["¿Alguna novedad?", "Sigo esperando respuesta, por favor.", "Os adjunto el número de pedido otra vez: {order}.",
           "¿Me podéis llamar? Es urgente.", "Vale, gracias por la información."],
    "en": ["Any update on this?", "Still waiting for a reply, please.", "Here is the order number again: {order}.",
           "Could someone call me? It's urgent.", "OK, thanks for letting me know."],
}


THANKS = {
    "es": ["¡Gracias por la respuesta!", "Perfecto, muchas gracias.", "Vale, quedo a la espera.",
           "Entendido. ¿Me avisáis cuando esté resuelto?"],
    "en": ["Thanks for getting back to me!", "Perfect, thank you.", "OK, I'll wait to hear from you.",
           "Understood. Will you let me know when it's sorted?"],
}


class TrafficGenerator:
    """API-channel payloads (the JSON schema of POST /api/inbound/<id>/): new customers,
    returning demo customers, and replies in threads it has started."""

    def __init__(self, rng: random.Random | None = None):
        self.rng = rng or random.Random()
        self.threads: list[dict] = []  # {"thread_key", "sender", "lang", "order", "subject"}
        self.sent = 0

    def next_payload(self, now: datetime) -> tuple[str, dict]:
        """Return (what happened, payload)."""
        self.sent += 1
        roll = self.rng.random()
        if self.threads and roll < 0.35:
            thread = self.rng.choice(self.threads[-15:])
            text = self.rng.choice(NUDGES[thread["lang"]]).format(order=thread["order"])
            return f"reply in {thread['thread_key']} from {thread['sender']['name']}", self._payload(
                now, thread["sender"], text, thread_key=thread["thread_key"], subject=f"Re: {thread['subject']}")
        if roll < 0.55:
            person = self.rng.choice(people())
            sender = {"name": person.name, "email": person.email}
            what = f"returning customer {person.name}"
            lang = person.lang
        else:
            lang = "es" if self.rng.random() < 0.6 else "en"
            first, last = self.rng.choice(FIRST_NAMES[lang]), self.rng.choice(LAST_NAMES[lang])
            domain = self.rng.choice(EMAIL_DOMAINS[lang])
            sender = {"name": f"{first} {last}", "email": f"{ascii_slug(first)}.{ascii_slug(last)}{self.rng.randint(1, 99)}@{domain}"}
            if self.rng.random() < 0.4:
                sender["phone"] = (f"+34 6{self.rng.randint(10, 99)} {self.rng.randint(100, 999)} {self.rng.randint(100, 999)}"
                                   if lang == "es" else f"+44 7700 900{self.rng.randint(0, 999):03d}")
            what = f"new customer {sender['name']}"
        topic = TOPICS[self.rng.choice(list(TOPICS))]
        order = f"AH-{self.rng.randint(300000, 399999)}"
        product = self.rng.choice(PRODUCTS[lang])
        first = sender["name"].split()[0]
        subject, _, short, _, _ = (s.format(order=order, product=product, amount="89,90" if lang == "es" else "89.90",
                                            name=sender["name"], first=first, last=sender["name"].split()[-1])
                                   for s in topic[lang])
        thread_key = f"order-{order}"
        self.threads.append({"thread_key": thread_key, "sender": sender, "lang": lang, "order": order, "subject": subject})
        return f"{what} ({thread_key})", self._payload(now, sender, short, thread_key=thread_key, subject=subject)

    def messenger_event(self, now: datetime, page_id: str) -> tuple[str, dict]:
        """A Page webhook body (Messenger message) from a demo customer or a new person."""
        ms = int(now.timestamp() * 1000)
        if self.rng.random() < 0.5:
            person = self.rng.choice(people())
            psid, lang = person.psid, person.lang
            what = f"Messenger message from {person.name}"
        else:
            psid, lang = str(7_100_000_000_000_000 + self.rng.randint(0, 10**9)), "es" if self.rng.random() < 0.6 else "en"
            what = f"Messenger message from a new person ({psid})"
        topic = TOPICS[self.rng.choice(list(TOPICS))][lang]
        order = f"AH-{self.rng.randint(300000, 399999)}"
        short = topic[2].format(order=order, product=self.rng.choice(PRODUCTS[lang]), amount="89,90", name="", first="", last="")
        event = {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": ms,
                 "message": {"mid": f"m_sim{self.rng.getrandbits(64):016x}", "text": short}}
        return what, {"object": "page", "entry": [{"id": page_id, "time": ms, "messaging": [event]}]}

    def call_status(self, now: datetime, our_number: str, account_sid: str) -> tuple[str, dict]:
        """A Twilio Voice status callback (form fields) for an inbound call: answered or missed."""
        person = self.rng.choice(people())
        answered = self.rng.random() < 0.6
        status = "completed" if answered else self.rng.choice(["no-answer", "busy", "canceled"])
        seconds = self.rng.randint(40, 420) if answered else 0
        fields = {
            "CallSid": f"CA{self.rng.getrandbits(128):032x}", "AccountSid": account_sid, "From": person.phone_e164,
            "To": our_number, "Caller": person.phone_e164, "Called": our_number, "CallStatus": status,
            "Direction": "inbound", "CallDuration": str(seconds), "Duration": str(max(1, seconds // 60)),
            "Timestamp": format_datetime(now), "CallbackSource": "call-progress-events", "SequenceNumber": "0",
        }
        return f"{'answered' if answered else 'missed (' + status + ')'} call from {person.name}", fields

    def answer_to(self, reply: dict, now: datetime) -> tuple[str, dict] | None:
        """The customer's answer to an agent's reply (the API channel's outbound JSON), or None."""
        customer = reply.get("customer") or {}
        fields = {"email": "email", "phone": "phone", "twitter": "twitter", "facebook": "facebook", "external": "external_id"}
        sender = {"name": customer.get("display_name") or ""}
        for identity in customer.get("identities") or []:
            if identity.get("kind") in fields:
                sender.setdefault(fields[identity["kind"]], identity["value"])
        if len(sender) == 1 or not (reply.get("thread_key") or reply.get("in_reply_to")):
            return None
        spanish = re.search(r"[¿¡ñáéíóú]|\b(hola|gracias|pedido)\b", reply.get("text") or "", re.I)
        text = self.rng.choice(THANKS["es" if spanish else "en"])
        payload = self._payload(now, sender, text, thread_key=reply.get("thread_key") or "", subject="")
        if reply.get("in_reply_to"):
            payload["references"] = [reply["in_reply_to"]]
        return f"{sender['name']} answered the reply in conversation {reply.get('conversation_id')}", payload

    # -- answers on the stand-in channels (apps/demo/standins): what the customer writes back ---------

    def thanks(self, answered: str) -> str:
        """A short answer in the language of the agent's message."""
        spanish = re.search(r"[¿¡ñáéíóú]|\b(hola|gracias|pedido)\b", answered or "", re.I)
        return self.rng.choice(THANKS["es" if spanish else "en"])

    def messenger_answer(self, now: datetime, page_id: str, psid: str, answered: str) -> tuple[str, dict]:
        """The Page webhook body of the person's Messenger answer to the Page's message."""
        ms = int(now.timestamp() * 1000)
        event = {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": ms,
                 "message": {"mid": f"m_sim{self.rng.getrandbits(64):016x}", "text": self.thanks(answered)}}
        return f"Messenger answer from {psid}", {"object": "page", "entry": [{"id": page_id, "time": ms, "messaging": [event]}]}

    def x_dm_answer(self, now: datetime, own_id: str, user_id: str, answered: str) -> tuple[str, dict]:
        """The Account Activity webhook body of the user's DM answer to the account."""
        event = {"type": "message_create", "id": str(1_870_000_000_000_000_000 + self.rng.getrandbits(40)),
                 "created_timestamp": str(int(now.timestamp() * 1000)),
                 "message_create": {"target": {"recipient_id": own_id}, "sender_id": user_id,
                                    "message_data": {"text": self.thanks(answered)}}}
        person = next((p for p in people() if p.twitter_id == user_id), None)
        users = {user_id: {"id": user_id, "name": person.name, "screen_name": person.twitter_handle.lstrip("@")}} if person else {}
        return f"X direct message from {user_id}", {"for_user_id": own_id, "direct_message_events": [event], "users": users}

    def _payload(self, now: datetime, sender: dict, text: str, *, thread_key: str, subject: str) -> dict:
        return {
            "external_id": f"sim-{self.rng.getrandbits(64):016x}",
            "sent_at": now.isoformat(),
            "sender": dict(sender),
            "subject": subject,
            "text": text,
            "thread_key": thread_key,
            "metadata": {"source": "simulate_traffic"},
        }
