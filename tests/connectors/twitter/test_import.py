"""`manage.py ingest twitter FILE` replays X bodies through the live path; one customer across channels."""
import json
from io import StringIO

import pytest
from django.core.management import call_command

from apps.accounts.models import Role
from apps.connectors.models import ChannelKind, DeadLetter
from apps.connectors.drain import payloads_import
from apps.connectors.twitter import services
from apps.crm.models import Customer, Identity
from apps.inbox.models import Conversation, Message
from tests.builders import client_for

from .conftest import FIXTURES, fixture_bytes

pytestmark = pytest.mark.django_db

LUCIA = "1500000000000000777"


def ingest(*paths, account) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ingest", "twitter", *map(str, paths), "--account", str(account.id), "--no-progress", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue().strip(), err.getvalue()


def test_the_ingest_command_replays_api_bodies(x_account):
    # when: a mentions page, a DM events page and a tweet lookup
    code, out, err = ingest(*(FIXTURES / n for n in ("mentions_page.json", "dm_events.json", "tweet_lookup.json")), account=x_account)
    # then
    assert (code, out, err) == (0, "ingested 5 · duplicates 0 · failed 0", "")
    assert Conversation.objects.get(thread_key="tweet:1861000000000000101").message_count == 2
    assert Message.objects.get(external_id="dm:1861000000000000510").direction == "out"
    # and again: only duplicates
    assert ingest(FIXTURES / "mentions_page.json", account=x_account)[:2] == (0, "ingested 0 · duplicates 2 · failed 0")


def test_a_file_of_several_bodies_counts_failures_per_body(x_account, tmp_path):
    # given: NDJSON with a good body and one that is not an X body
    path = tmp_path / "export.ndjson"
    path.write_text(json.dumps(json.loads(fixture_bytes("tweet_lookup.json"))) + "\n" + json.dumps({"title": "Unauthorized"}) + "\n")
    # when
    code, out, err = ingest(path, account=x_account)
    # then
    assert (code, out) == (1, "ingested 1 · duplicates 0 · failed 1")
    assert "export.ndjson[1]: an X error answer (problem object), not a payload: Unauthorized" in err
    assert DeadLetter.objects.get().kind == "twitter"


# --- one customer, every channel ---------------------------------------------------------------


@pytest.fixture
def lucia_tweets(x_api, x_account):
    """Lucía complains in public; a poll brings it in."""
    x_api.user(LUCIA, "Lucía Romero", "lucia_romero")
    x_api.mention("1861000000000000101", LUCIA, "@TiendaSoporte mi pedido no ha llegado")
    services.twitter_account_poll(account_id=x_account.id)
    return Identity.objects.get(kind="twitter", value=LUCIA).customer


def test_a_customer_who_tweets_then_writes_her_email_in_a_dm_then_on_messenger_is_one_history(
    lucia_tweets, x_api, x_account, make_account, make_user
):
    # given: she sends her email address by DM
    x_api.dm("1861000000000000520", LUCIA, "Mi correo es Lucia.Romero@example.com, por si acaso")
    services.twitter_account_poll(account_id=x_account.id)
    # when: later she writes to the Facebook Page with the same address in the text
    page = make_account(kind=ChannelKind.FACEBOOK, name="Tienda en Facebook", settings={"page_id": "104857600123456"})
    messenger = {"object": "page", "entry": [{"id": "104857600123456", "time": 1795432800000, "messaging": [{
        "sender": {"id": "6712345678901234"}, "recipient": {"id": "104857600123456"}, "timestamp": 1795432800000,
        "message": {"mid": "m_AbC123", "text": "Hola, soy lucia.romero@example.com, os escribí por Twitter"}}]}]}
    counts = payloads_import(kind="facebook", account=page, payloads=[("messenger", json.dumps(messenger).encode())])
    # then: one customer owns the tweet, the DM and the Messenger message
    assert counts.ingested == 1
    assert Customer.objects.count() == 1
    assert set(Identity.objects.filter(customer=lucia_tweets).values_list("kind", "value")) == {
        ("twitter", LUCIA), ("email", "lucia.romero@example.com"), ("facebook", "6712345678901234")}
    # and the desk shows her one history across both networks
    timeline = client_for(make_user(role=Role.SUPERVISOR)).get(f"/api/customers/{lucia_tweets.id}/timeline/").json()
    assert sorted(row["channel"]["kind"] for row in timeline["results"]) == [
        "facebook", "twitter", "twitter"]


def test_an_email_customer_who_later_tweets_her_address_is_the_same_customer(lucia_tweets, x_api, x_account, make_account, inbound):
    # given: Marta wrote by email first
    from apps.inbox.services.ingest import messages_ingest

    mail = make_account(kind=ChannelKind.EMAIL, name="soporte@tienda.example")
    messages_ingest(messages=[inbound(mail, email="marta.gil@example.com", name="Marta Gil")])
    marta = Identity.objects.get(kind="email", value="marta.gil@example.com").customer
    # when: she tweets at the brand with that address
    x_api.user("1500000000000000999", "Marta Gil", "martagil")
    x_api.mention("1861000000000000301", "1500000000000000999", "@TiendaSoporte os escribí desde marta.gil@example.com")
    services.twitter_account_poll(account_id=x_account.id)
    # then
    assert Identity.objects.get(kind="twitter", value="1500000000000000999").customer_id == marta.id
    assert Message.objects.get(external_id="tweet:1861000000000000301").customer_id == marta.id


def test_the_brands_own_address_quoted_in_a_tweet_joins_nobody(lucia_tweets, x_api, x_account, settings):
    # given: the brand's domain is declared; two customers quote its support address
    settings.OWN_EMAIL_DOMAINS = ["tienda.example"]
    x_api.user("1500000000000000999", "Marta Gil", "martagil")
    x_api.mention("1861000000000000102", LUCIA, "@TiendaSoporte escribí a soporte@tienda.example y nada")
    x_api.mention("1861000000000000301", "1500000000000000999", "@TiendaSoporte yo también a soporte@tienda.example")
    # when
    services.twitter_account_poll(account_id=x_account.id)
    # then
    assert Customer.objects.count() == 2
    assert not Identity.objects.filter(kind="email").exists()
