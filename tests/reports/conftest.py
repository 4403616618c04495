"""A known week of work (company time zone Europe/Madrid, UTC+1 in November), built through the
real services under a controlled clock. Figures the tests expect are worked out in the comments.

Monday 16 Nov 2026 (Madrid):
  c1 email/team A: in 09:00, reply 09:10 (agent1, first, 600 s), in 10:00, reply 10:30 (agent1, next 1800 s), resolved 11:00 (agent1)
  c2 email/team A: in 09:00, reply 09:30 (agent1, first, 1800 s), resolved 12:00 (agent1)
  c3 email/team A: in 13:00, reply 18:00 (agent2, first, 18000 s: past the 240 min target)
  c4 api/team B:   in 23:30, reply Tue 00:30 (agent2, first, 3600 s)
Tuesday 17 Nov:
  c5 api/team B:   in 00:30, reply 00:32 (agent2, first, 120 s)
"""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from apps.accounts.models import Role
from apps.connectors.models import ChannelKind
from apps.inbox.models import Conversation
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.services.replies import message_deliver, reply_create
from tests.connectors.email.servers import SmtpCapture
from tests.inbox.test_replies import SECRET, Receiver

MADRID = ZoneInfo("Europe/Madrid")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=MADRID)


@pytest.fixture
def madrid(settings):
    settings.REPORTS_TIME_ZONE = "Europe/Madrid"
    # SLA: the default policies (apps/sla/migrations/0002): 24/7, first response 15 / 60 / 240 / 1440 min
    # by priority, warning at 75%.


class Week:
    pass


@pytest.fixture
def outside():
    """Where the replies go: a real SMTP server (email) and the customer's system (API channel).
    A reply counts as an answer (first response, SLA clock stopped) once it is actually sent."""
    smtp, receiver = SmtpCapture().start(), Receiver()
    yield smtp, receiver
    smtp.stop()
    receiver.stop()


@pytest.fixture
def week(madrid, make_user, make_account, inbound, team, outside):
    from apps.accounts.models import Team

    smtp, receiver = outside
    w = Week()
    w.team_a = team
    w.team_b = Team.objects.create(name="Team B")
    w.email = make_account(kind=ChannelKind.EMAIL, team=w.team_a, settings={
        "address": "soporte@tienda.example", "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"})
    w.api = make_account(kind=ChannelKind.PUSH, team=w.team_b, settings={"outbound_url": receiver.url},
                         secrets={"outbound_secret": SECRET})
    w.agent1 = make_user(teams=[w.team_a], username="agent1")
    w.agent2 = make_user(teams=[w.team_a, w.team_b], username="agent2")

    def customer_writes(account, email, when, text="Hola, mi pedido no ha llegado"):
        with time_machine.travel(when, tick=False):
            ids = messages_ingest(messages=[inbound(account, email=email, sent_at=when, text=text)]).message_ids
        return Conversation.objects.get(messages__id=ids[0])

    def reply(conversation, agent, when):
        with time_machine.travel(when, tick=False):
            message = reply_create(conversation=conversation, author=agent, text="Ya lo miramos / on it")
            message_deliver(message_id=message.id)  # the deliver task, here and now
            assert type(message).objects.get(pk=message.pk).delivery_status == "sent"

    def resolve(conversation, agent, when):
        with time_machine.travel(when, tick=False):
            conversation_update(conversation=conversation, actor=agent, status=Conversation.Status.RESOLVED)

    w.c1 = customer_writes(w.email, "c1@example.com", at(16, 9))
    reply(w.c1, w.agent1, at(16, 9, 10))
    customer_writes(w.email, "c1@example.com", at(16, 10), text="Where is my refund?")
    reply(w.c1, w.agent1, at(16, 10, 30))
    resolve(w.c1, w.agent1, at(16, 11))
    w.c2 = customer_writes(w.email, "c2@example.com", at(16, 9))
    reply(w.c2, w.agent1, at(16, 9, 30))
    resolve(w.c2, w.agent1, at(16, 12))
    w.c3 = customer_writes(w.email, "c3@example.com", at(16, 13))
    reply(w.c3, w.agent2, at(16, 18))
    w.c4 = customer_writes(w.api, "c4@example.com", at(16, 23, 30))
    reply(w.c4, w.agent2, at(17, 0, 30))
    w.c5 = customer_writes(w.api, "c5@example.com", at(17, 0, 30))
    reply(w.c5, w.agent2, at(17, 0, 32))
    w.supervisor = make_user(role=Role.SUPERVISOR, username="boss")
    w.scoped = make_user(role=Role.SUPERVISOR, teams=[w.team_a], username="boss_a")
    w.admin = make_user(role=Role.ADMIN, username="admin1")
    return w
