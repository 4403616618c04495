"""articles_search: the interface the suggestions (web form, push API, the agent's panel) call."""
import pytest
from django.db import connection

from apps.helpcenter import selectors, services
from apps.helpcenter.models import Article
from apps.helpcenter.selectors import articles_search

postgres = pytest.mark.postgres


def titles(found):
    return [a.title for a in found]


@postgres
@pytest.mark.django_db
@pytest.mark.parametrize("query,expected", [
    ("devolución", "Devoluciones y reembolsos"),  # with the accent
    ("devolucion", "Devoluciones y reembolsos"),  # without
    ("reembolsos", "Devoluciones y reembolsos"),  # another form of the word (Spanish stemming)
    ("contraseña", "Restablecer la contraseña"),
    ("contrasena", "Restablecer la contraseña"),
    ("contrasña", "Restablecer la contraseña"),  # one letter missing
    ("reembolzo", "Devoluciones y reembolsos"),  # one letter wrong
    ("devolucoin", "Devoluciones y reembolsos"),  # one typo
    ("refunds", "Returns and refunds"),
    ("refund", "Returns and refunds"),  # English stemming
    ("shiping", "Shipping times"),  # one typo
    ("pasword", "Reset your password"),  # one letter missing
])
def test_finds_spanish_and_english_articles_with_and_without_accents_and_with_a_typo(shop, query, expected):
    assert connection.vendor == "postgresql"
    # when
    found = articles_search(query)
    # then the article is found, first
    assert found and found[0].title == expected, (query, titles(found))


@postgres
@pytest.mark.django_db
def test_ranked_best_first_and_filtered_by_language_and_limit(shop):
    found = articles_search("return refund order")
    assert found[0].title == "Returns and refunds"
    assert [a.language for a in articles_search("devolución reembolso", language="es")] == ["es"]
    assert articles_search("refund", language="es") == [] or all(a.language == "es" for a in articles_search("refund", language="es"))
    assert len(articles_search("the order", limit=1)) <= 1
    assert all(isinstance(a, Article) and a.score > 0 for a in found)


@postgres
@pytest.mark.django_db
def test_only_the_best_full_text_matches_are_ranked(shop, publish, monkeypatch):
    """The ranking (trigram similarities) runs on selectors.CANDIDATES rows at most: the best full-text
    matches by ts_rank_cd, whatever the number of matches (bench/helpcenter_search.py)."""
    for n in range(6):
        publish("en", f"Gift wrapping {n}", "<p>We wrap a gift for your order; a refund is not needed.</p>")
    assert len(articles_search("refund order", limit=10)) == 8  # every article holding a word
    monkeypatch.setattr(selectors, "CANDIDATES", 2)
    found = articles_search("refund order return", limit=10)
    # the two best by full text, plus at most two from the typo arm (the trigram index's first), best first
    assert titles(found)[0] == "Returns and refunds" and 2 <= len(found) <= 4


@pytest.mark.django_db
def test_drafts_are_found_only_when_asked(shop):
    assert "Cupones secretos" not in titles(articles_search("cupones"))
    assert "Cupones secretos" in titles(articles_search("cupones", published_only=False))


@pytest.mark.django_db
def test_nothing_to_search_finds_nothing(shop):
    assert articles_search("") == []
    assert articles_search("  !!! ") == []
    assert articles_search("refund", limit=0) == []
    # tsquery syntax in the text is only words
    assert articles_search("refund & | ! :* ( ') order") is not None


@postgres
@pytest.mark.django_db
def test_the_search_vector_follows_every_save(shop, supervisor):
    article = shop["shipping_en"]
    assert articles_search("courier") == []
    services.article_update(article=article, actor=supervisor, body="<p>The courier leaves the parcel at your door.</p>")
    assert titles(articles_search("courier")) == ["Shipping times"]
    assert Article.objects.filter(pk=article.pk, search_vector__isnull=False).exists()


@postgres
@pytest.mark.django_db
def test_the_search_uses_its_indexes(shop):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'helpcenter_article'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"helpcenter_article_fts", "helpcenter_article_trgm"} <= names


@pytest.mark.django_db
def test_the_embedded_fallback_finds_words_without_accents_ranked_by_words_found(shop):
    """The SQLite method (LIKE on search_text), run here on PostgreSQL through the same function."""
    from apps.helpcenter.selectors import _search_simple
    from apps.helpcenter.text import query_words

    published = Article.objects.filter(status=Article.Status.PUBLISHED)
    assert titles(_search_simple(published, query_words("Contraseña"))) == ["Restablecer la contraseña"]
    assert titles(_search_simple(published, query_words("devolucion")))[:1] == ["Devoluciones y reembolsos"]
    found = titles(_search_simple(published, query_words("refund order")))
    assert found[0] == "Returns and refunds" and "Shipping times" in found  # both words before one
    assert titles(_search_simple(published, query_words("cupones"))) == []  # drafts filtered by the caller
