"""The customer's answer reaches the agent's desk live: a real uvicorn server, a real websocket
client with the agent's session, the customer posting the public page over HTTP."""
import json
import re

import pytest
import requests

from apps.csat.models import Survey
from apps.inbox.models import Conversation
from apps.inbox.services.conversations import conversation_update
from tests.builders import conversations
from tests.conftest import frame_events
from tests.inbox.test_replies import SECRET
from tests.live_server import desk_socket

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _frames_until(ws, wanted, limit=50):
    for _ in range(limit):
        for event in frame_events(ws.recv(timeout=15)):
            if wanted(event):
                return event
    raise AssertionError("the event never came")


def test_the_rating_appears_live_on_the_agents_socket(desk_server, make_user, team, make_account, inbound, receiver, eager_celery):
    # given: a resolved conversation of team X whose survey went out, and its agent on the desk
    account = make_account(team=team, settings={"outbound_url": receiver.url}, secrets={"outbound_secret": SECRET},
                           csat_enabled=True)
    (conversation,) = conversations(inbound, account, 1, text="Hola, mi pedido no ha llegado")
    agent = make_user(teams=[team])
    conversation_update(conversation=conversation, actor=agent, assignee=agent)
    conversation_update(conversation=conversation, actor=agent, status=Conversation.Status.RESOLVED)
    survey = Survey.objects.get(conversation=conversation)
    assert survey.status == "sent"
    with desk_socket(desk_server, user=agent) as ws:
        assert json.loads(ws.recv(timeout=15))["type"] == "hello"
        # when: the customer opens the link and rates 5 on the public page (no login)
        browser = requests.Session()
        page = browser.get(f"{desk_server}/csat/{survey.token}/", timeout=15)
        assert page.status_code == 200
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = browser.post(f"{desk_server}/csat/{survey.token}/", data={"csrfmiddlewaretoken": csrf, "score": "5",
                                                                            "comment": "¡Rapidísimos!"}, timeout=15)
        assert answer.status_code == 200 and "5 de 5" in answer.text
        # then: the desk hears the rating as a new line of the thread
        frame = _frames_until(ws, lambda f: f.get("type") == "message.created" and "rating" in f["message"].get("details", {}))
    assert frame["message"]["conversation_id"] == conversation.id
    assert frame["message"]["details"]["rating"] == {"score": 5, "scale": 5, "comment": "¡Rapidísimos!"}
