"""schemathesis over the desk's own OpenAPI schema (/api/schema/), as each role: no operation
answers 5xx to anything schemathesis generates, and every status code an operation answers is one
its schema documents.

In-process through Django's WSGI handler (no server to start), on the test database; a small desk
(tests/security/world.py) gives path parameters real objects of team A, so the agent reaches real
conversations and the other roles exercise their refusals. Bounded and deterministic:
MAX_EXAMPLES per operation and role with a derandomized seed (CI sees the same cases every run).
"""
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from .world import build_world

MAX_EXAMPLES = 4
ROLES = ("anonymous", "agent", "supervisor", "admin")

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes the database connection after each request (request_finished), which
    would close the test's transaction; Django's own test client unhooks it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=ROLES)
def role_world(request, db, keep_test_connection):
    world = build_world()
    user = world.users[request.param]
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"} if user else {}
    return world, headers


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_operation_errors_and_every_status_is_documented(case, role_world):
    world, headers = role_world
    params = {**world.params, "id": world.params["pk"]}  # the schema names the priority rule's pk "id"
    for name in case.path_parameters or {}:
        if name in params:  # a real object of team A, not a random id that is always a 404
            case.path_parameters[name] = params[name]
    case.call_and_validate(headers=headers, checks=[not_a_server_error, status_code_conformance])
