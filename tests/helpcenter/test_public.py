"""The public help center: published articles only, in the visitor's language, indexable, embeddable, fast."""
import pytest
from django.test import Client, override_settings

from apps.helpcenter.models import Article


@pytest.fixture
def client():
    return Client()


@pytest.mark.django_db
def test_the_root_sends_visitors_to_their_language(client):
    assert client.get("/help/", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")["Location"] == "/help/es/"
    assert client.get("/help/", HTTP_ACCEPT_LANGUAGE="en-GB")["Location"] == "/help/en/"
    assert client.get("/help/fr/").status_code == 404


@pytest.mark.django_db
def test_drafts_are_never_public(client, shop):
    draft = shop["draft"]
    assert client.get(draft.get_absolute_url()).status_code == 404
    home = client.get("/help/es/").content.decode()
    assert "Cupones secretos" not in home
    assert "Cupones secretos" not in client.get("/help/es/?q=cupones").content.decode()
    assert "Cupones secretos" not in client.get("/help/suggest/?q=cupones").content.decode()
    assert "cupones" not in client.get("/help/sitemap.xml").content.decode()
    assert "Cupones secretos" not in client.get("/help/es/devoluciones/").content.decode()


@pytest.mark.django_db
def test_an_article_page_is_indexable_and_links_its_translation(client, shop):
    # given the Spanish article with an English translation
    es, en = shop["returns_es"], shop["returns_en"]
    # when a visitor opens it
    response = client.get(es.get_absolute_url())
    html = response.content.decode()
    # then it is in Spanish, with its title, description, canonical and hreflang alternates
    assert response.status_code == 200 and response["Content-Language"] == "es"
    assert '<html lang="es">' in html
    assert "<title>Devoluciones y reembolsos · Centro de ayuda</title>" in html
    assert '<meta name="description" content="Puedes devolver tu pedido en 30 días. El reembolso llega en 14 días.">' in html
    assert f'<link rel="canonical" href="http://testserver{es.get_absolute_url()}">' in html
    assert f'<link rel="alternate" hreflang="en" href="http://testserver{en.get_absolute_url()}">' in html
    assert f'<link rel="alternate" hreflang="es" href="http://testserver{es.get_absolute_url()}">' in html
    assert f'href="{en.get_absolute_url()}" hreflang="en" lang="en" id="translation-link">Read in English</a>' in html
    # and the page can't be framed (only the embed can)
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_an_unpublished_translation_is_not_linked(client, shop, supervisor):
    from apps.helpcenter import services

    services.article_update(article=shop["returns_en"], actor=supervisor, status=Article.Status.DRAFT)
    html = client.get(shop["returns_es"].get_absolute_url()).content.decode()
    assert "translation-link" not in html and 'hreflang="en"' not in html


@pytest.mark.django_db
def test_home_category_and_search(client, shop):
    en = client.get("/help/en/").content.decode()
    assert "Returns and refunds" in en and "Shipping times" in en and "Devoluciones y reembolsos" not in en
    es = client.get("/help/es/").content.decode()
    assert "Devoluciones y reembolsos" in es and "Shipping times" not in es
    category = client.get("/help/es/devoluciones/").content.decode()
    assert "Devoluciones y reembolsos" in category and "Restablecer" not in category
    assert client.get("/help/en/no-such-category/").status_code == 404
    results = client.get("/help/en/?q=refund").content.decode()
    assert 'id="help-results"' in results and "Returns and refunds" in results


@pytest.mark.django_db
def test_public_pages_take_a_fixed_number_of_queries(client, shop, publish, category, django_assert_max_num_queries):
    # given many more articles
    for i in range(30):
        publish("es", f"Pregunta {i}", f"<p>Respuesta {i}</p>", category=category if i % 2 else None)
    # then the pages' queries do not grow with them
    with django_assert_max_num_queries(2):
        assert client.get("/help/es/").status_code == 200
    with django_assert_max_num_queries(2):
        assert client.get("/help/es/devoluciones/").status_code == 200
    with django_assert_max_num_queries(2):
        assert client.get(shop["returns_es"].get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(3):  # the search, and the shelves below it
        assert client.get("/help/es/?q=pregunta").status_code == 200
    with django_assert_max_num_queries(2):  # the count (sitemap pages) and the articles
        assert client.get("/help/sitemap.xml").status_code == 200


@pytest.mark.django_db
def test_the_sitemap_lists_every_published_article_in_both_languages(client, shop):
    xml = client.get("/help/sitemap.xml").content.decode()
    for key in ("returns_es", "returns_en", "password_es", "password_en", "shipping_en"):
        assert f"<loc>http://testserver{shop[key].get_absolute_url()}</loc>" in xml
    assert xml.count("<url>") == 5
    assert "<lastmod>" in xml


@pytest.mark.django_db
def test_robots_txt_lets_search_engines_crawl_the_help_center_only_and_names_the_sitemap(client, shop):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert lines[:2] == ["User-agent: *", "Allow: /help/"]
    assert {"Disallow: /help/suggest/", "Disallow: /help/events/", "Disallow: /help/embed/", "Disallow: /"} <= set(lines)
    assert "Sitemap: http://testserver/help/sitemap.xml" in lines
    assert client.get("/help/sitemap.xml").status_code == 200


@pytest.mark.django_db
def test_the_embed_may_be_framed_by_the_configured_origins_only(client, shop):
    assert client.get("/help/embed/?lang=es")["Location"] == "/help/es/?embed=1"
    # without origins: same-origin frames only
    page = client.get("/help/es/?embed=1")
    assert page["X-Frame-Options"] == "SAMEORIGIN" and "frame-ancestors 'self'" in page["Content-Security-Policy"]
    with override_settings(HELPCENTER_EMBED_ORIGINS=["https://shop.example"]):
        page = client.get(shop["returns_es"].get_absolute_url() + "?embed=1")
    assert "X-Frame-Options" not in page
    assert "frame-ancestors 'self' https://shop.example" in page["Content-Security-Policy"]
    html = page.content.decode()
    assert 'class="help embedded"' in html and '<meta name="robots" content="noindex">' in html
    assert 'href="/help/es/?embed=1"' in html  # links stay in the frame
    # other pages stay unframeable
    assert Client().get("/help/es/")["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_suggest_answers_published_articles_in_the_visitors_language_first(client, shop):
    data = client.get("/help/suggest/", {"q": "devolución", "lang": "es"}).json()
    assert [a["title"] for a in data["articles"]] == ["Devoluciones y reembolsos"]  # one version per article
    data = client.get("/help/suggest/", {"q": "refund", "lang": "en"}).json()
    assert data["articles"][0] == {"id": shop["returns_en"].id, "title": "Returns and refunds", "language": "en",
                                   "url": "/help/en/a/returns-and-refunds/",
                                   "excerpt": "You can return your order within 30 days; the refund takes 14 days."}
    assert client.get("/help/suggest/", {"q": ""}).json() == {"articles": []}


@pytest.mark.django_db
def test_suggest_is_rate_limited(client, shop):
    with override_settings(HELPCENTER_SUGGEST_RATE_LIMIT="3/10m"):
        codes = [client.get("/help/suggest/", {"q": "refund"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
