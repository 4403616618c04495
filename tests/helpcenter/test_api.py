"""/api/help/: articles over the REST API, and the push channel's suggestions with its token."""
import uuid

import pytest
from rest_framework.test import APIClient

from apps.connectors.models import ChannelKind
from apps.connectors.services import channel_account_rotate_token
from apps.helpcenter.models import Article, DeflectionEvent


def api(user=None):
    client = APIClient()
    if user:
        client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_the_article_api_follows_the_same_rules_as_the_pages(agent, supervisor, shop, django_assert_max_num_queries):
    assert api().get("/api/help/articles/").status_code == 403
    with django_assert_max_num_queries(3):
        rows = api(agent).get("/api/help/articles/").json()
    assert {r["title"] for r in rows} >= {"Returns and refunds", "Cupones secretos"}
    returns_es = next(r for r in rows if r["title"] == "Devoluciones y reembolsos")
    assert returns_es["translation_id"] == shop["returns_en"].id and returns_es["url"] == "/help/es/a/devoluciones-y-reembolsos/"
    # an agent: a draft yes, published no
    created = api(agent).post("/api/help/articles/", {"language": "en", "title": "Gift cards", "body": "<p>ok</p><script>x</script>"}, format="json")
    assert created.status_code == 201 and created.json()["status"] == "draft" and created.json()["body"] == "<p>ok</p>"
    article_id = created.json()["id"]
    assert api(agent).patch(f"/api/help/articles/{article_id}/", {"status": "published"}, format="json").status_code == 403
    assert api(agent).post("/api/help/articles/", {"language": "en", "title": "X", "status": "published"}, format="json").status_code == 403
    assert api(agent).delete(f"/api/help/articles/{article_id}/").status_code == 403
    assert api(agent).patch(f"/api/help/articles/{shop['returns_en'].id}/", {"title": "x"}, format="json").status_code == 403
    # a supervisor publishes and deletes
    published = api(supervisor).patch(f"/api/help/articles/{article_id}/", {"status": "published"}, format="json").json()
    assert published["status"] == "published" and published["published_at"]
    assert api(supervisor).delete(f"/api/help/articles/{article_id}/").status_code == 204
    assert api(supervisor).get(f"/api/help/articles/{article_id}/").status_code == 404
    # filters and search
    assert {r["language"] for r in api(agent).get("/api/help/articles/?language=es").json()} == {"es"}
    assert api(agent).get("/api/help/articles/?language=fr").status_code == 400
    assert [r["title"] for r in api(agent).get("/api/help/articles/?q=cupones").json()] == ["Cupones secretos"]


@pytest.mark.django_db
def test_the_push_channel_asks_for_suggestions_with_its_token(make_account, shop):
    account = make_account(kind=ChannelKind.PUSH)
    token = channel_account_rotate_token(account=account)
    client = APIClient()
    visit = str(uuid.uuid4())
    # no token, a wrong one: refused
    assert client.get(f"/api/help/suggest/{account.id}/", {"q": "refund"}).status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Bearer wrong")
    assert client.get(f"/api/help/suggest/{account.id}/", {"q": "refund"}).status_code == 401
    # the account's token: the articles, with absolute URLs, and the "shown" counted for the visit
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    data = client.get(f"/api/help/suggest/{account.id}/", {"q": "devolución", "lang": "es", "visit": visit}).json()
    assert data["articles"][0]["title"] == "Devoluciones y reembolsos"
    assert data["articles"][0]["url"] == "http://testserver/help/es/a/devoluciones-y-reembolsos/"
    assert DeflectionEvent.objects.filter(visit=visit, kind="shown", source="api").count() == 1
    assert client.get(f"/api/help/suggest/{account.id}/", {"q": "x", "visit": "nope"}).status_code == 400
    assert "Cupones" not in str(client.get(f"/api/help/suggest/{account.id}/", {"q": "cupones"}).json())
    account.enabled = False
    account.save(update_fields=["enabled"])
    assert client.get(f"/api/help/suggest/{account.id}/", {"q": "refund"}).status_code == 403
    assert Article.objects.filter(status="draft").exists()
