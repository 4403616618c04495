"""Priority rules that read the message (Spanish and English, accents and capitals), VIP customers,
repeated contact, and the reasons shown on the conversation."""
import pytest

from apps.accounts.models import Role
from apps.crm.models import Customer
from apps.inbox.models import Conversation, ConversationEvent
from apps.inbox.selectors import conversation_priority_reasons
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest
from apps.routing.models import PriorityRule
from apps.routing.rules import KeywordMatcher, fold, keywords_parse, text_for_rules
from tests.builders import client_for

ANGER = "vergüenza, estafa, vergonzoso, ridículo, disgrace, scam, ripoff"
LEGAL = "denunciar*, abogado, demanda, OCU, lawyer, sue, legal action"
CANCEL = "darme de baja, dar de baja, cancelar mi cuenta, cancel my account, close my account"
INSULTS = "imbécil*, idiota*, inútiles, gilipollas, idiot*, morons, useless"


@pytest.fixture(autouse=True)
def default_rule(db):
    """The rule migration 0002 makes: a transactional test elsewhere in this worker may have flushed it."""
    return PriorityRule.objects.get_or_create(name="public complaint", defaults={"position": 10, "is_public": True, "priority": 2})[0]


def _found(keywords: str, text: str) -> list[str]:
    return KeywordMatcher(keywords_parse(keywords)).found(text_for_rules(text))


@pytest.mark.parametrize("text, found", [
    ("¡Es una VERGÜENZA!", ["vergüenza"]),
    ("es una verguenza, de verdad", ["vergüenza"]),  # typed without the accent
    ("Esto es una ESTAFA. Vergonzoso.", ["estafa", "vergonzoso"]),
    ("Sois unos estafadores", []),  # whole words: "estafa" is not "estafadores"
    ("What a SCAM", ["scam"]),
    ("This is a disgrace!!!", ["disgrace"]),
    ("Rescam nothing", []),
])
def test_anger_words_in_spanish_and_english(text, found):
    assert _found(ANGER, text) == found


@pytest.mark.parametrize("text, found", [
    ("Voy a DENUNCIARLOS a la OCU", ["denunciar*", "OCU"]),
    ("Mi abogado se pondrá en contacto", ["abogado"]),
    ("My lawyer will hear about this", ["lawyer"]),
    ("I will SUE you", ["sue"]),
    ("Sueño con un sofá nuevo", []),  # "sue" is not "sueño"
    ("We are taking legal\naction", ["legal action"]),
])
def test_legal_threats_with_a_prefix_and_phrases_over_line_breaks(text, found):
    assert _found(LEGAL, text) == found


@pytest.mark.parametrize("text, found", [
    ("Quiero DARME DE BAJA ya", ["darme de baja"]),
    ("quiero darme  de\n baja", ["darme de baja"]),
    ("I want to cancel my account.", ["cancel my account"]),
    ("Please CANCEL MY ACCOUNT now", ["cancel my account"]),
    ("Can I cancel my order?", []),
])
def test_cancel_my_account_phrases(text, found):
    assert _found(CANCEL, text) == found


def test_folding_and_keyword_parsing():
    assert fold("¡VERGÜENZA! Ñandú Ça") == "¡verguenza! nandu ca"
    assert keywords_parse("estafa\nESTAFA, vergüenza;  dar  de baja \n\n") == ["estafa", "vergüenza", "dar de baja"]
    with pytest.raises(ValueError):
        keywords_parse("x" * 81)
    with pytest.raises(ValueError):
        keywords_parse("!!!")


# --- through ingest, with the rules in the database ---------------------------------------------


@pytest.fixture
def rules(db):
    PriorityRule.objects.all().delete()
    return {
        "public": PriorityRule.objects.create(position=10, name="public complaint", is_public=True, priority=2),
        "anger": PriorityRule.objects.create(position=20, name="anger words", keywords=ANGER, priority=2),
        "legal": PriorityRule.objects.create(position=30, name="legal threat", keywords=LEGAL, priority=3),
        "cancel": PriorityRule.objects.create(position=40, name="wants to cancel", keywords=CANCEL, priority=2),
        "vip": PriorityRule.objects.create(position=50, name="VIP customer", customer_tag="vip", priority=2),
        "repeat": PriorityRule.objects.create(position=60, name="repeated contact", repeated_contact=True, priority=2),
    }


def _arrive(inbound, account, **kwargs) -> Conversation:
    ids = messages_ingest(messages=[inbound(account, **kwargs)]).message_ids
    return Conversation.objects.get(messages__id=ids[0])


@pytest.mark.django_db
def test_a_public_complaint_with_anger_words_says_why_it_is_high(rules, make_account, inbound):
    # when a public tweet arrives, in capitals and with accents
    conv = _arrive(inbound, make_account(kind="twitter"), email="ira@example.com", is_public=True,
                   text="¡Es una VERGÜENZA! Esto es una estafa.")
    # then it starts High, and the conversation says which rules fired and on which words
    assert conv.priority == Conversation.Priority.HIGH
    event = ConversationEvent.objects.get(conversation=conv, kind="priority")
    assert event.data["by"] == "rules"
    assert [(r["name"], r.get("words")) for r in event.data["reasons"]] == [
        ("public complaint", None), ("anger words", ["vergüenza", "estafa"])]
    assert conversation_priority_reasons(conversation=conv) == "High: public complaint; anger words: 'vergüenza', 'estafa'"


@pytest.mark.django_db
def test_a_public_complaint_still_starts_above_a_private_question(rules, make_account, inbound):
    account = make_account(kind="twitter")
    public = _arrive(inbound, account, email="a@example.com", is_public=True, text="Where is my order?")
    private = _arrive(inbound, account, email="b@example.com", is_public=False, text="Where is my order?")
    assert (public.priority, private.priority) == (2, 1)
    assert not ConversationEvent.objects.filter(conversation=private, kind="priority").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("text, priority, reason", [
    ("Voy a denunciarlos si no me devuelven el dinero", 3, "Urgent: legal threat: 'denunciar*'"),
    ("I want to cancel my account", 2, "High: wants to cancel: 'cancel my account'"),
    ("Quiero DARME DE BAJA", 2, "High: wants to cancel: 'darme de baja'"),
    ("esto es una estafa y voy a llamar a mi ABOGADO", 3, "Urgent: anger words: 'estafa'; legal threat: 'abogado'"),
])
def test_private_messages_that_read_urgent_or_high(rules, make_account, inbound, text, priority, reason):
    conv = _arrive(inbound, make_account(kind="email"), email="c@example.com", text=text, subject="Pedido 4411")
    assert conv.priority == priority
    assert conversation_priority_reasons(conversation=conv) == reason


@pytest.mark.django_db
def test_a_vip_customer_and_a_customer_writing_on_a_second_channel_start_high(rules, make_account, inbound):
    email, api = make_account(kind="email"), make_account(kind="api")
    # given a VIP customer
    first = _arrive(inbound, email, email="vip@example.com", text="Una pregunta sobre la factura")
    assert first.priority == 1
    Customer.objects.filter(pk=first.customer_id).update(tags=["vip"])
    conversation_update(conversation=first, actor=None, status="resolved")
    # when they write again on the same channel: VIP
    again = _arrive(inbound, email, email="vip@example.com", text="Otra pregunta", minutes=60 * 30)
    assert (again.priority, conversation_priority_reasons(conversation=again)) == (2, "High: VIP customer")
    # given a plain customer who wrote by email, when they write on another channel within the day: repeated contact
    _arrive(inbound, email, email="twice@example.com", text="¿Dónde está mi pedido?")
    second = _arrive(inbound, api, email="twice@example.com", text="¿Dónde está mi pedido?", minutes=120)
    assert (second.priority, conversation_priority_reasons(conversation=second)) == (2, "High: repeated contact")
    # but not a day and more later
    _arrive(inbound, email, email="later@example.com", text="Hola")
    later = _arrive(inbound, api, email="later@example.com", text="Hola", minutes=60 * 25)
    assert later.priority == 1


@pytest.mark.django_db
def test_a_later_message_with_a_legal_threat_raises_the_priority_never_lowers_it(rules, make_account, inbound):
    account = make_account(kind="email")
    conv = _arrive(inbound, account, email="d@example.com", thread_key="mail-1", text="¿Cuándo llega mi pedido?")
    assert conv.priority == 1
    messages_ingest(messages=[inbound(account, email="d@example.com", thread_key="mail-1", minutes=10,
                                      text="Si mañana no llega, VOY A DENUNCIARLOS.")])
    conv.refresh_from_db()
    assert conv.priority == 3
    event = ConversationEvent.objects.get(conversation=conv, kind="priority")
    assert (event.data["from"], event.data["to"]) == (1, 3)
    # an agent lowers it; a calm message later does not raise it again, a new threat does not lower it
    conversation_update(conversation=conv, actor=None, priority=2)
    messages_ingest(messages=[inbound(account, email="d@example.com", thread_key="mail-1", minutes=20, text="Gracias")])
    conv.refresh_from_db()
    assert conv.priority == 2


@pytest.mark.django_db
def test_a_stop_rule_holds_later_rules_back_and_disabled_rules_do_not_fire(rules, make_account, inbound):
    PriorityRule.objects.create(position=1, name="internal tests", keywords="prueba interna", priority=0, stop=True)
    rules["legal"].enabled = False
    rules["legal"].save()
    email = make_account(kind="email")
    held = _arrive(inbound, email, email="e@example.com", text="PRUEBA INTERNA: es una estafa")
    assert (held.priority, conversation_priority_reasons(conversation=held)) == (0, "Low: internal tests: 'prueba interna'")
    calm = _arrive(inbound, email, email="f@example.com", text="voy a denunciarlos")
    assert calm.priority == 1


# --- the API ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_supervisors_write_rules_over_the_api_agents_get_403(make_user, make_account, inbound):
    agent, boss = client_for(make_user()), client_for(make_user(role=Role.SUPERVISOR))
    body = {"position": 5, "name": "insults", "keywords": "imbécil\nINÚTILES", "is_public": True,
            "priority": None, "moderation": "flag"}
    assert agent.post("/api/priority-rules/", body, format="json").status_code == 403
    created = boss.post("/api/priority-rules/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["keywords"] == ["imbécil", "INÚTILES"]
    rule_id = created.json()["id"]
    assert agent.patch(f"/api/priority-rules/{rule_id}/", {"enabled": False}, format="json").status_code == 403
    assert agent.delete(f"/api/priority-rules/{rule_id}/").status_code == 403
    # bad input: a clear error, nothing saved
    bad = boss.post("/api/priority-rules/", {**body, "keywords": "x" * 100}, format="json")
    assert bad.status_code == 400 and "80" in str(bad.json())
    nothing = boss.post("/api/priority-rules/", {"name": "does nothing", "priority": None}, format="json")
    assert nothing.status_code == 400
    private_moderation = boss.post("/api/priority-rules/", {**body, "is_public": False}, format="json")
    assert private_moderation.status_code == 400
    # everyone reads them, in order
    listed = agent.get("/api/priority-rules/").json()
    assert [r["name"] for r in listed] == ["insults", "public complaint"]
    assert boss.patch(f"/api/priority-rules/{rule_id}/", {"keywords": "tonto"}, format="json").json()["keywords"] == ["tonto"]
    assert boss.delete(f"/api/priority-rules/{rule_id}/").status_code == 204


@pytest.mark.django_db
def test_the_openapi_schema_documents_the_rules(make_user):
    schema = client_for(make_user()).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    fields = schema["components"]["schemas"]["PriorityRule"]["properties"]
    assert {"keywords", "customer_tag", "repeated_contact", "moderation", "stop", "priority"} <= set(fields)
    assert "accents" in fields["keywords"]["description"].lower()


@pytest.mark.django_db
def test_supervisors_tag_a_customer_vip_over_the_api_and_the_vip_rule_fires(rules, make_user, make_account, inbound):
    email = make_account(kind="email")
    first = _arrive(inbound, email, email="big@example.com", text="Hola")
    url = f"/api/customers/{first.customer_id}/tags/"
    assert client_for(make_user()).put(url, {"tags": ["vip"]}, format="json").status_code == 403
    boss = client_for(make_user(role=Role.SUPERVISOR))
    assert boss.put(url, {"tags": ["bad<tag>"]}, format="json").status_code == 400
    response = boss.put(url, {"tags": ["VIP", "vip", "empresa"]}, format="json")
    assert (response.status_code, response.json()["tags"]) == (200, ["empresa", "vip"])
    conversation_update(conversation=first, actor=None, status="resolved")
    again = _arrive(inbound, email, email="big@example.com", text="Otra cosa", minutes=60 * 30)
    assert conversation_priority_reasons(conversation=again) == "High: VIP customer"


@pytest.mark.django_db
@pytest.mark.parametrize("text, is_public, priority, reason", [
    ("¡Es una VERGÜENZA!", False, 2, "High: anger words: 'vergüenza'"),
    ("esto es una estafa", True, 2, "High: public complaint; anger words: 'estafa'"),
    ("I want to cancel my account", False, 2, "High: wants to cancel: 'cancel my account'"),
    ("voy a denunciarlos", False, 3, "Urgent: legal threat: 'denunciar*'"),
    ("Lo necesito URGENTE, hoy mismo", False, 2, "High: urgency: 'urgente', 'hoy mismo'"),
    ("¿Tenéis el sofá en azul?", False, 1, ""),
])
def test_the_default_rules_of_the_demo(make_account, inbound, text, is_public, priority, reason):
    from apps.routing.services import priority_rules_seed

    assert priority_rules_seed() == 7  # "public complaint" exists already (the first migration's rule)
    assert priority_rules_seed() == 0
    conv = _arrive(inbound, make_account(kind="twitter"), email="demo@example.com", text=text, is_public=is_public)
    assert (conv.priority, conversation_priority_reasons(conversation=conv)) == (priority, reason)


@pytest.mark.django_db
def test_the_default_insult_rule_flags_a_public_insult_and_keeps_it(make_account, inbound):
    from apps.routing.services import priority_rules_seed

    priority_rules_seed()
    conv = _arrive(inbound, make_account(kind="twitter"), email="troll@example.com", is_public=True,
                   text="Sois unos INÚTILES y unos LADRONES")
    message = conv.messages.get()
    assert message.metadata["moderation"]["action"] == "flag"
    assert message.metadata["moderation"]["reasons"][0]["words"] == ["inútiles", "ladrones"]
    assert ConversationEvent.objects.filter(conversation=conv, kind="moderated", data__action="comment_flagged").exists()
    # a private message with the same words is not a public comment: nothing to moderate
    private = _arrive(inbound, make_account(kind="email"), email="dm@example.com", text="Sois unos inútiles")
    assert "moderation" not in private.messages.get().metadata
