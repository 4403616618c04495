"""The rules around a survey: once per N days per customer (controlled clock), one survey per
resolution under concurrency, a link that expires and takes one answer, the answer in the
conversation's history, low scores to the supervisors (and reopening when configured), the API."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.db import connection
from django.test import Client

from apps.accounts.models import Role
from apps.csat import services
from apps.csat.models import Survey
from apps.inbox.models import Conversation, ConversationEvent, Message, Notification
from apps.inbox.services.conversations import conversation_update
from tests.builders import client_for, conversations
from tests.inbox.test_replies import SECRET

T = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def push(make_account, receiver, team):
    return make_account(settings={"outbound_url": receiver.url}, secrets={"outbound_secret": SECRET}, team=team,
                        csat_enabled=True)


def _three_of_one_customer(inbound, account):
    """Three conversations (three threads) of the same customer on the push channel."""
    batch = [inbound(account, email="ana@example.com", thread_key=f"order-{n}", text="Hola, mi pedido no ha llegado") for n in (1, 2, 3)]
    from apps.inbox.services.ingest import messages_ingest

    ids = messages_ingest(messages=batch).message_ids
    return [Conversation.objects.get(messages__id=i) for i in ids]


@pytest.mark.django_db(transaction=True)
def test_at_most_one_survey_per_customer_every_n_days(push, inbound, receiver, make_user, resolve):
    first, second, third = _three_of_one_customer(inbound, push)
    agent = make_user()
    with time_machine.travel(T, tick=False):
        resolve(first, agent)
    with time_machine.travel(T + timedelta(days=6, hours=23), tick=False):
        resolve(second, agent)
    with time_machine.travel(T + timedelta(days=7, minutes=1), tick=False):
        resolve(third, agent)
    by_conversation = {s.conversation_id: (s.status, s.skip_reason) for s in Survey.objects.all()}
    assert by_conversation == {first.id: ("sent", ""), second.id: ("skipped", "recent"), third.id: ("sent", "")}
    assert len(receiver.requests) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_make_one_survey(push, inbound, receiver, make_user, eager_celery):
    (conversation,) = conversations(inbound, push, 1, thread_key="order-5")
    conversation_update(conversation=conversation, actor=make_user(), status=Conversation.Status.RESOLVED)
    Survey.objects.all().delete()  # whatever the listener did: the two below race from nothing
    receiver.requests.clear()
    barrier, made = threading.Barrier(2), []

    def work():
        barrier.wait()
        try:
            made.append(services.survey_for_resolution(conversation_id=conversation.id))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Survey.objects.count() == 1
    assert {s.pk for s in made} == {Survey.objects.get().pk}
    assert len(receiver.requests) == 1


def _survey(push, inbound, make_user, resolve, *, at=T, email="lucia@example.com", text="Hola, mi pedido no ha llegado"):
    (conversation,) = conversations(inbound, push, 1, text=text)
    agent = make_user(teams=[push.team])
    conversation_update(conversation=conversation, actor=agent, assignee=agent)
    with time_machine.travel(at, tick=False):
        resolve(conversation, agent)
    return Survey.objects.get(conversation=conversation), agent


@pytest.mark.django_db(transaction=True)
def test_the_link_takes_one_answer_and_expires(push, inbound, receiver, make_user, resolve):
    survey, agent = _survey(push, inbound, make_user, resolve)
    late, _ = _survey(push, inbound, make_user, resolve)
    url, browser = f"/csat/{survey.token}/", Client()
    with time_machine.travel(T + timedelta(days=1), tick=False):
        page = browser.get(url)
        assert page.status_code == 200 and "¿Qué tal lo hicimos?" in page.content.decode()  # the conversation's language
        answered = browser.post(url, {"score": "4", "comment": "Muy amables, gracias"})
        assert answered.status_code == 200 and "Hemos recibido su valoración: 4 de 5." in answered.content.decode()
        # the same link again: refused politely, the first answer kept
        again = browser.post(url, {"score": "1", "comment": "otra vez"})
        assert again.status_code == 409 and "su nueva respuesta no se ha guardado" in again.content.decode()
        assert browser.get(url).status_code == 200
    survey.refresh_from_db()
    assert (survey.status, survey.score, survey.comment) == ("answered", 4, "Muy amables, gracias")
    # the other survey's link, past its lifetime (14 days): expired, nothing recorded
    with time_machine.travel(T + timedelta(days=14, seconds=1), tick=False):
        assert Client().get(f"/csat/{late.token}/").status_code == 410
        expired = Client().post(f"/csat/{late.token}/", {"score": "5"})
    assert expired.status_code == 410 and "ha caducado" in expired.content.decode()
    late.refresh_from_db()
    assert (late.status, late.score) == ("sent", None)
    # a made-up link
    assert Client().post("/csat/not-a-token/", {"score": "5"}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_an_invalid_answer_is_shown_again_with_the_error(push, inbound, receiver, make_user, resolve):
    survey, _ = _survey(push, inbound, make_user, resolve, text="Hello, my order has not arrived yet")
    with time_machine.travel(T + timedelta(hours=1), tick=False):
        response = Client().post(f"/csat/{survey.token}/", {"score": "9", "comment": "hmm"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Please choose a rating from 1 to 5." in body and ">hmm</textarea>" in body  # English: the customer's words
    survey.refresh_from_db()
    assert survey.status == "sent"


@pytest.mark.django_db(transaction=True)
def test_the_answer_is_in_the_history_and_a_low_score_notifies_and_reopens(push, inbound, receiver, make_user, resolve, settings):
    settings.CSAT_REOPEN_ON_LOW = True
    supervisor = make_user(role=Role.SUPERVISOR, language="es")
    elsewhere = make_user(role=Role.SUPERVISOR, teams=[make_user().teams.create(name="Social")])  # another team's supervisor
    other_agent = make_user()
    survey, agent = _survey(push, inbound, make_user, resolve)
    with time_machine.travel(T + timedelta(hours=2), tick=False):
        services.survey_answer(token=survey.token, score=2, comment="Tardaron mucho")
    conversation = Conversation.objects.get(pk=survey.conversation_id)
    rated = ConversationEvent.objects.get(conversation=conversation, kind="rated")
    assert (rated.data["score"], rated.data["comment"], rated.data["survey_id"]) == (2, "Tardaron mucho", survey.id)
    line = Message.objects.get(pk=rated.data["message_id"])
    assert (line.kind, line.author_id, line.details) == ("note", None, {"rating": {"score": 2, "scale": 5, "comment": "Tardaron mucho"}})
    [note] = Notification.objects.filter(kind="low_rating")
    assert (note.user_id, note.conversation_id) == (supervisor.id, conversation.id)
    assert note.text == f"Conversación n.º {conversation.id}: el cliente la valoró con 2 de 5: Tardaron mucho"
    assert not Notification.objects.filter(user__in=[other_agent, elsewhere]).exists()
    assert conversation.status == "open"
    reopened = ConversationEvent.objects.filter(conversation=conversation, kind="status").latest("id")
    assert (reopened.data["from"], reopened.data["to"], reopened.data["by"], reopened.actor_id) == ("resolved", "open", "csat", None)


@pytest.mark.django_db(transaction=True)
def test_without_reopening_a_low_score_only_notifies_and_a_good_one_does_neither(push, inbound, receiver, make_user, resolve):
    make_user(role=Role.SUPERVISOR)
    low, _ = _survey(push, inbound, make_user, resolve, text="Hello, where is my order?")
    good, _ = _survey(push, inbound, make_user, resolve)
    with time_machine.travel(T + timedelta(hours=2), tick=False):
        services.survey_answer(token=low.token, score=1, comment="")
        services.survey_answer(token=good.token, score=3, comment="")
    assert Notification.objects.filter(kind="low_rating").count() == 1
    assert Notification.objects.get(kind="low_rating").text == f"Conversation #{low.conversation_id}: the customer rated it 1 out of 5"
    assert set(Conversation.objects.values_list("status", flat=True)) == {"resolved"}


@pytest.mark.django_db(transaction=True)
def test_turned_off_nothing_is_asked(push, inbound, receiver, make_user, resolve, settings):
    settings.CSAT_ENABLED = False
    (conversation,) = conversations(inbound, push, 1)
    resolve(conversation, make_user())
    assert not Survey.objects.exists() and receiver.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_channel_without_csat_asks_nothing(make_account, receiver, inbound, make_user, team, django_capture_on_commit_callbacks, eager_celery):
    """CSAT is an admin's opt-in per channel account (off by default), as a Zendesk-class desk has it."""
    account = make_account(settings={"outbound_url": receiver.url}, secrets={"outbound_secret": SECRET}, team=team)
    assert account.csat_enabled is False
    (conversation,) = conversations(inbound, account, 1)
    with django_capture_on_commit_callbacks(execute=True):
        conversation_update(conversation=conversation, actor=make_user(), status=Conversation.Status.RESOLVED)
    assert not Survey.objects.exists() and receiver.requests == []
    # turned on by the admin (console or API), the next resolution asks
    admin = make_user(role=Role.ADMIN)
    response = client_for(admin).patch(f"/api/channel-accounts/{account.id}/", {"csat_enabled": True}, content_type="application/json")
    assert response.status_code == 200 and response.json()["csat_enabled"] is True
    with django_capture_on_commit_callbacks(execute=True):
        conversation_update(conversation=conversation, actor=admin, status=Conversation.Status.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        conversation_update(conversation=conversation, actor=admin, status=Conversation.Status.RESOLVED)
    assert Survey.objects.get().status == "sent" and len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_the_api_lists_a_conversations_surveys_to_those_who_see_it_never_the_token(push, inbound, receiver, make_user, resolve, team):
    survey, agent = _survey(push, inbound, make_user, resolve)
    stranger = make_user(teams=[])
    response = client_for(agent).get(f"/api/conversations/{survey.conversation_id}/surveys/")
    assert response.status_code == 200
    [row] = response.json()
    assert (row["id"], row["status"], row["channel_kind"], row["agent"], row["team"]) == (survey.id, "sent", "api", agent.id, team.id)
    assert "token" not in row and survey.token not in response.content.decode()
    assert client_for(stranger).get(f"/api/conversations/{survey.conversation_id}/surveys/").status_code == 404
