"""Writing articles on /desk/help/: agents write drafts, supervisors and admins publish."""
import pytest
from django.test import Client

from apps.helpcenter.models import Article


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(shop):
    for url in ("/desk/help/", "/desk/help/new/", f"/desk/help/{shop['draft'].id}/", "/desk/help/topics/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


@pytest.mark.django_db
def test_an_agent_writes_a_draft_but_cannot_publish(agent):
    client = signed_in(agent)
    # when the agent saves a new article
    response = client.post("/desk/help/new/", {"title": "Cómo pagar con Bizum", "language": "es",
                                               "body": "<p>Elige <b>Bizum</b></p><script>x()</script>", "save": "1"})
    article = Article.objects.get(title="Cómo pagar con Bizum")
    assert response.status_code == 302 and response["Location"] == f"/desk/help/{article.id}/"
    assert article.status == "draft" and article.author == agent and article.body == "<p>Elige <b>Bizum</b></p>"
    assert article.slug == "como-pagar-con-bizum"
    # then publishing is refused
    response = client.post(f"/desk/help/{article.id}/", {"title": article.title, "language": "es", "body": article.body, "publish": "1"})
    assert response.status_code == 403
    article.refresh_from_db()
    assert article.status == "draft"
    # and the editor shows no publish button to the agent
    html = client.get(f"/desk/help/{article.id}/").content.decode()
    assert 'id="publish"' not in html and 'id="save-draft"' in html


@pytest.mark.django_db
def test_a_supervisor_publishes_and_links_a_translation(supervisor):
    client = signed_in(supervisor)
    client.post("/desk/help/new/", {"title": "Payment methods", "language": "en", "body": "<p>Cards</p>", "publish": "1"})
    en = Article.objects.get(title="Payment methods")
    assert en.status == "published" and en.published_at
    # when the supervisor writes the Spanish version from the "Write the translation" link
    form = client.get(f"/desk/help/new/?language=es&translation_of={en.id}").content.decode()
    assert f'<option value="{en.id}" selected>' in form
    client.post("/desk/help/new/", {"title": "Métodos de pago", "language": "es", "body": "<p>Tarjeta</p>",
                                    "translation_of": en.id, "publish": "1"})
    es = Article.objects.get(title="Métodos de pago")
    assert es.translation_key == en.translation_key
    assert f'href="{es.get_absolute_url()}"' in Client().get(en.get_absolute_url()).content.decode()
    # and unpublishes, then deletes
    client.post(f"/desk/help/{es.id}/", {"title": es.title, "language": "es", "body": es.body, "unpublish": "1"})
    es.refresh_from_db()
    assert es.status == "draft"
    client.post(f"/desk/help/{es.id}/", {"delete": "1"})
    assert not Article.objects.filter(pk=es.pk).exists()


@pytest.mark.django_db
def test_an_agent_cannot_change_or_delete_a_published_article(agent, shop):
    client = signed_in(agent)
    article = shop["returns_es"]
    response = client.post(f"/desk/help/{article.id}/", {"title": "Hackeado", "language": "es", "body": "x", "save": "1"})
    assert response.status_code == 403
    assert client.post(f"/desk/help/{article.id}/", {"delete": "1"}).status_code == 403
    article.refresh_from_db()
    assert article.title == "Devoluciones y reembolsos"
    html = client.get(f"/desk/help/{article.id}/").content.decode()
    assert "only supervisors and admins change it" in html and 'id="save-draft"' not in html


@pytest.mark.django_db
def test_the_list_filters_and_searches_with_bounded_queries(supervisor, shop, django_assert_max_num_queries):
    client = signed_in(supervisor)
    with django_assert_max_num_queries(8):  # session, user, the list (authors and categories joined)
        html = client.get("/desk/help/").content.decode()
    assert "Cupones secretos" in html and "Returns and refunds" in html
    html = client.get("/desk/help/?language=en&status=published").content.decode()
    assert "Returns and refunds" in html and "Devoluciones" not in html
    html = client.get("/desk/help/?q=cupones").content.decode()
    assert "Cupones secretos" in html  # drafts are found on the desk


@pytest.mark.django_db
def test_the_topics_page_is_for_supervisors(agent, supervisor, admin):
    assert signed_in(agent).get("/desk/help/topics/").status_code == 403
    assert signed_in(supervisor).get("/desk/help/topics/").status_code == 200
    assert signed_in(admin).get("/desk/help/topics/").status_code == 200
