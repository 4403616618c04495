"""/desk/routing/rules/: supervisors and admins edit the rules on a page; agents get 403."""
import pytest

from apps.accounts.models import Role
from apps.routing.models import PriorityRule

pytestmark = pytest.mark.django_db

URL = "/desk/routing/rules/"


@pytest.fixture(autouse=True)
def default_rule(db):
    """The rule migration 0002 makes: a transactional test elsewhere in this worker may have flushed it."""
    return PriorityRule.objects.get_or_create(name="public complaint", defaults={"position": 10, "is_public": True, "priority": 2})[0]


def _client(client, user):
    client.force_login(user)
    return client


def test_agents_get_403_on_the_page_and_on_its_writes(client, make_user):
    agent = _client(client, make_user())
    assert agent.get(URL).status_code == 403
    assert agent.post(URL, {"name": "x", "priority": "3", "position": "1"}).status_code == 403
    rule = PriorityRule.objects.get()
    assert agent.post(URL, {"action": "delete", "rule": rule.id}).status_code == 403
    assert agent.post(f"{URL}{rule.id}/", {"name": "x", "priority": "0", "position": "1"}).status_code == 403
    assert PriorityRule.objects.filter(pk=rule.pk, priority=2).exists()


def test_signed_out_goes_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisors_and_admins_add_edit_and_delete(client, make_user, role):
    boss = _client(client, make_user(role=role))
    page = boss.get(URL)
    assert page.status_code == 200 and "public complaint" in page.content.decode()
    # add
    response = boss.post(URL, {"position": "20", "name": "anger words", "keywords": "Vergüenza\nestafa, ESTAFA",
                               "priority": "2", "is_public": "", "channel_kind": "", "moderation": "", "enabled": "on"})
    assert response.status_code == 302
    rule = PriorityRule.objects.get(name="anger words")
    assert (rule.keywords, rule.priority, rule.is_public, rule.enabled) == ("Vergüenza\nestafa", 2, None, True)
    # edit: public only, urgent, flag
    response = boss.post(f"{URL}{rule.id}/", {"position": "20", "name": "anger words", "keywords": "estafa",
                                              "priority": "3", "is_public": "true", "moderation": "flag", "enabled": "on"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.keywords, rule.priority, rule.is_public, rule.moderation) == ("estafa", 3, True, "flag")
    # delete
    assert boss.post(URL, {"action": "delete", "rule": rule.id}).status_code == 302
    assert not PriorityRule.objects.filter(pk=rule.pk).exists()


def test_bad_input_is_shown_and_nothing_is_saved(client, make_user):
    boss = _client(client, make_user(role=Role.SUPERVISOR))
    too_long = boss.post(URL, {"position": "5", "name": "long", "keywords": "x" * 90, "priority": "2"})
    assert too_long.status_code == 200 and "at most 80 characters" in too_long.content.decode()
    nothing = boss.post(URL, {"position": "5", "name": "empty", "priority": "", "moderation": ""})
    assert nothing.status_code == 200 and "A rule sets a priority, a moderation, or both" in nothing.content.decode()
    private_moderation = boss.post(URL, {"position": "5", "name": "m", "priority": "", "moderation": "hide", "is_public": "false"})
    assert "public comments only" in private_moderation.content.decode()
    assert PriorityRule.objects.count() == 1


def test_the_desk_links_supervisors_to_the_rules(client, make_user):
    assert 'id="rules-link"' not in _client(client, make_user()).get("/").content.decode()
    client.logout()
    assert 'id="rules-link"' in _client(client, make_user(role=Role.SUPERVISOR)).get("/").content.decode()
