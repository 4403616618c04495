"""A small desk with one of everything, for the security suites: two teams, a user of each role
(and an agent of the other team), and in team A a conversation with a message, an attachment,
a customer with a merge suggestion, a canned response, a priority rule, a web form and channel
accounts; an SLA calendar and policy, an outgoing webhook with a delivery, a dead letter of team A's
API account. Built through the real services where they exist; ids feed URL parameters by name."""
import itertools
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import connection

from apps.accounts.models import Role, Team, User
from apps.connectors.models import ChannelAccount, ChannelKind
from apps.connectors.services import dead_letter_keep
from apps.connectors.webform.models import WebForm
from apps.crm.models import MergeSuggestion
from apps.helpcenter.models import Article as HelpArticle
from apps.helpcenter.models import Category as HelpCategory
from apps.helpcenter.services import article_create
from apps.inbox.inbound import InboundMessage, SenderIdentity
from apps.inbox.models import Attachment, CannedResponse, Conversation
from apps.inbox.services.ingest import messages_ingest
from apps.integrations.models import EventType
from apps.integrations.services import deliveries_create, webhook_endpoint_create
from apps.routing.models import PriorityRule
from apps.routing.services import priority_rule_create
from apps.sla.models import BusinessCalendar, SlaPolicy
from apps.sla.services import calendar_save, policy_save
from tests.conftest import T0

ROLES = ("anonymous", "agent", "other_agent", "supervisor", "admin")
_n = itertools.count(1)


@dataclass
class World:
    users: dict[str, User | None]
    team_a: Team
    team_b: Team
    conversation: Conversation
    params: dict[str, object] = field(default_factory=dict)  # URL parameter name -> a value of team A's


def build_world() -> World:
    n = next(_n)
    team_a, team_b = Team.objects.create(name=f"A{n}"), Team.objects.create(name=f"B{n}")

    def user(name, role, teams=(), **extra):
        # no password: sessions come from force_login, and hashing one per user costs ~0.3 s of CPU
        made = User.objects.create(username=f"{name}{n}", role=role, **extra)
        made.teams.set(teams)
        return made

    users = {
        "anonymous": None,
        "agent": user("agent", Role.AGENT, [team_a]),
        "other_agent": user("other", Role.AGENT, [team_b]),
        "supervisor": user("sup", Role.SUPERVISOR),
        "admin": user("admin", Role.ADMIN, is_staff=True, is_superuser=True),  # as demo_seed makes admins
    }
    api = ChannelAccount.objects.create(kind=ChannelKind.PUSH, name=f"API {n}", team=team_a)
    form_account = ChannelAccount.objects.create(kind=ChannelKind.WEBFORM, name=f"Form {n}", team=team_a)
    form = WebForm.objects.create(slug=f"contact-{n}", title="Contacto", channel_account=form_account)
    # two messages of one customer, a third from someone claiming both her email and another's phone
    ingest = messages_ingest(messages=[
        InboundMessage(account_id=api.id, external_id=f"w{n}-1", sent_at=T0, text="Hola, mi pedido no ha llegado",
                       senders=[SenderIdentity("email", f"ana{n}@example.com", display_name="Ana García")]),
        InboundMessage(account_id=api.id, external_id=f"w{n}-2", sent_at=T0, text="Soy Luis",
                       senders=[SenderIdentity("phone", f"+3460000{n:04d}", display_name="Luis")]),
    ])
    conversation = Conversation.objects.filter(messages__id=ingest.message_ids[0]).get()
    message = conversation.messages.get()
    attachment = Attachment.objects.create(message=message, filename="factura.pdf", content_type="application/pdf",
                                           file=ContentFile(b"%PDF-1.4 factura", name="factura.pdf"), size=16)
    other_customer = Conversation.objects.filter(messages__id=ingest.message_ids[1]).get().customer
    suggestion = MergeSuggestion.objects.create(customer=conversation.customer, other=other_customer, reason="same person?")
    canned = CannedResponse.objects.create(shortcut=f"hola{n}", title="Saludo", text="Hola {{customer.first_name}}")
    # `pk` is the one parameter of /api/priority-rules/<pk>/ and /api/sla/calendars|policies/<pk>/: the three
    # tables' id sequences are moved to one common next value (never backwards, so no id is reused) and
    # the rule, the calendar and the policy are then made through their services with that same id.
    _align_next_ids(PriorityRule, BusinessCalendar, SlaPolicy)
    rule = priority_rule_create(values={"channel_kind": ChannelKind.PUSH, "priority": 2})
    calendar = calendar_save(name=f"Oficina {n}", time_zone="Europe/Madrid", always_open=True)
    policy = policy_save(name=f"Estándar {n}", calendar=calendar, first_response_minutes=60)
    assert rule.id == calendar.id == policy.id, "one `pk` for the priority rule, the SLA calendar and the policy"
    endpoint, _ = webhook_endpoint_create(actor=users["admin"], name=f"CRM {n}", url="https://crm.example.com/hooks/desk",
                                          event_types=[EventType.CONVERSATION_CREATED])
    [delivery_id] = deliveries_create(events=[(EventType.CONVERSATION_CREATED, {"conversation_id": conversation.id})])
    dead_letter = dead_letter_keep(kind="api", raw=b'{"broken": ', error="Invalid JSON", source="webhook", account=api)
    # the help center: a published article and a category at the form's slug (the one `slug` parameter),
    # and a draft any desk user may edit (`article_id`)
    category = HelpCategory.objects.create(slug=form.slug, name_en="Orders", name_es="Pedidos")
    article_create(author=users["supervisor"], language="es", title="Plazos de envío", body="<p>2 a 4 días</p>",
                   slug=form.slug, category=category, status=HelpArticle.Status.PUBLISHED)
    draft = article_create(author=users["agent"], language="es", title=f"Borrador {n}", body="<p>...</p>")
    world = World(users=users, team_a=team_a, team_b=team_b, conversation=conversation)
    world.params = {
        "conversation_id": conversation.id,
        "customer_id": conversation.customer_id,
        "message_id": message.id,
        "attachment_id": attachment.id,
        "canned_id": canned.id,
        "suggestion_id": suggestion.id,
        "pk": rule.id,  # == calendar.id == policy.id (see above)
        "rule_id": rule.id,
        "calendar_id": calendar.id,
        "policy_id": policy.id,
        "webhook_id": endpoint.id,
        "delivery_id": delivery_id,
        "dead_letter_id": dead_letter.id,
        "kind": ChannelKind.EMAIL,  # console-account-new: the form for a new email account
        # the mailed password link: any value; the page answers its own "invalid link" (no user is named)
        "uidb64": "MQ",
        "token": "not-a-token",
        "account_id": api.id,
        "slug": form.slug,
        "webform_id": form.id,
        "object_id": conversation.id,
        "id": users["agent"].id,
        "content_type_id": "1",
        "app_label": "inbox",
        "url": "nothing-here/",
        "team_id": team_a.id,
        "user_id": users["agent"].id,
        "lang": "es",
        "article_id": draft.id,
    }
    return world


def _align_next_ids(*models) -> None:
    """Set the id sequences of `models` so each hands out the same next id: the highest of their next ids."""
    with connection.cursor() as cursor:
        sequences = []
        for model in models:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
            sequences.append(cursor.fetchone()[0])
        cursor.execute("SELECT GREATEST(" + ", ".join(["nextval(%s)"] * len(sequences)) + ")", sequences)
        common = cursor.fetchone()[0]
        for sequence in sequences:
            cursor.execute("SELECT setval(%s, %s, false)", [sequence, common])
