import json
from pathlib import Path

import pytest
from django.test.utils import CaptureQueriesContext
from django.db import connection

from apps.demo.management.commands.run_desk import desk_processes
from apps.inbox.services.ingest import messages_ingest

pytestmark = pytest.mark.django_db


def test_desk_requires_login(client):
    # when an anonymous visitor opens the desk
    response = client.get("/")
    # then they are sent to the desk's sign-in page
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_login_page_signs_an_agent_in(client, make_user):
    # given
    make_user(username="laura")
    page = client.get("/login/")
    assert page.status_code == 200 and b'name="password"' in page.content
    # when
    response = client.post("/login/", {"username": "laura", "password": "pw-secret-123", "next": "/"})
    # then
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_stays_on_the_login_page(client, make_user):
    make_user(username="laura")
    response = client.post("/login/", {"username": "laura", "password": "nope", "next": "/"})
    assert response.status_code == 200
    assert b"form-error" in response.content
    assert client.get("/").status_code == 302


def test_desk_renders_for_an_agent(client, make_user, team):
    # given an agent of one team
    agent = make_user(teams=[team], first_name="Laura", last_name="Sánchez")
    client.force_login(agent)
    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    # then the shell renders with its script, the user's data for it, and a CSRF cookie for its writes
    assert response.status_code == 200
    html = response.content.decode()
    assert '<script type="module" src="/static/desk/main.js"></script>' in html
    bootstrap = html.split('<script id="desk-user" type="application/json">')[1].split("</script>")[0]
    assert json.loads(bootstrap) == {
        "id": agent.id, "username": agent.username, "name": "Laura Sánchez", "role": "agent", "supervisor": False,
        "admin": False, "teams": [{"id": team.id, "name": team.name}],
    }
    assert "csrftoken" in response.cookies
    # the first page of the list is rendered on the server, in a bounded number of queries
    # (tests/inbox/test_views.py shows the count does not grow with the rows)
    assert len(queries) <= 10


def test_desk_assets_are_served_without_collectstatic(client):
    # WhiteNoise serves from the finders, so `make run` needs no collectstatic step.
    for path, marker in [("/static/desk/main.js", b"./live.js"), ("/static/desk/live.js", b"/ws/desk/"), ("/static/desk/desk.css", b".rows")]:
        response = client.get(path)
        assert response.status_code == 200
        assert marker in b"".join(response.streaming_content)


def test_the_endpoints_desk_js_reads_have_the_fields_it_uses(client, make_user, account, inbound):
    # given a conversation with one message, seen by a supervisor
    messages_ingest(messages=[inbound(account, "m-1", email="ana@example.com", thread_key="t-1", subject="Pedido")])
    client.force_login(make_user(role="supervisor"))
    # when the desk script's three reads are made
    conversations = client.get("/api/conversations/?page_size=50&status=open").json()
    conversation = conversations["results"][0]
    thread = client.get(f"/api/conversations/{conversation['id']}/messages/?page_size=100").json()
    timeline = client.get(f"/api/customers/{conversation['customer']['id']}/timeline/?page_size=30").json()
    customer = client.get(f"/api/customers/{conversation['customer']['id']}/").json()
    # then each carries what the page renders
    assert {"id", "customer", "channel", "status", "priority", "subject", "assignee", "team", "is_public",
            "last_activity_at", "waiting_since", "last_message_preview", "message_count"} <= set(conversation)
    assert conversation["customer"]["display_name"] == "Ana García"
    assert conversation["channel"] == {"id": account.id, "kind": "api", "name": account.name}
    assert {"id", "direction", "kind", "author", "text", "html", "is_public", "sent_at", "delivery_status"} <= set(
        thread["results"][0]
    )
    assert {"conversation_id", "channel", "direction", "text", "sent_at"} <= set(timeline["results"][0])
    assert timeline["results"][0]["conversation_id"] == conversation["id"]
    assert {"display_name", "identities"} <= set(customer)
    assert "next" in conversations and "next" in timeline


def test_run_desk_starts_celery_only_with_redis():
    # embedded: the server and the simulator; tasks run in-process
    embedded = desk_processes(python="py", host="127.0.0.1", port=8000, simulator=True, celery=False)
    assert [name for name, _ in embedded] == ["web", "simulator"]
    web = embedded[0][1]
    assert web[:4] == ["py", "-m", "uvicorn", "config.asgi:application"]
    assert embedded[1][1][3:] == ["--url", "http://127.0.0.1:8000", "--listen-host", "127.0.0.1", "--listen-port", "8001", "--standins"]
    # with Redis: a Celery worker and beat too
    with_redis = desk_processes(python="py", host="0.0.0.0", port=9000, simulator=False, celery=True)
    assert [name for name, _ in with_redis] == ["web", "worker", "beat"]
    assert with_redis[1][1][2:6] == ["celery", "-A", "config", "worker"]


def test_uvicorn_trusts_no_forwarded_header_unless_told_which_proxies_to_trust():
    # given no FORWARDED_ALLOW_IPS: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1
    web = dict(desk_processes(python="py", host="127.0.0.1", port=8000, simulator=False, celery=False))["web"]
    # then REMOTE_ADDR stays the socket's peer (the web form's WEBFORM_TRUSTED_PROXIES is the one rule)
    assert "--no-proxy-headers" in web and "--proxy-headers" not in web
    # when a deployment names its proxies
    web = dict(desk_processes(python="py", host="0.0.0.0", port=8000, simulator=False, celery=False,
                              forwarded_allow_ips=["10.0.0.5", "10.0.0.6"]))["web"]
    # then uvicorn trusts those, and only those
    assert web[web.index("--proxy-headers"):][:3] == ["--proxy-headers", "--forwarded-allow-ips", "10.0.0.5,10.0.0.6"]
    # and the container images start uvicorn by the same rule
    root = Path(__file__).resolve().parent.parent.parent
    for name in ("Dockerfile", "docker-compose.yml"):
        text = (root / name).read_text()
        assert "--no-proxy-headers" in text and "FORWARDED_ALLOW_IPS" in text, name
