"""Reads of the help center: search, the public pages' lists, the topics without an article,
the deflection report.

Search (articles_search), two methods by database:
- PostgreSQL: full text on search_vector (Spanish or English configuration by the article's
  language, built from unaccent(title) weight A and unaccent(text) weight B) with every query word
  as a prefix (people search while typing), both as typed and without accents (a stemmer knows
  "devolución" but not "devolucion"), OR-ed and ranked by ts_rank_cd; plus pg_trgm word
  word similarity (the %> operator on a trigram GIN index, threshold 0.6) of each query word against
  search_text (title + text, lower case, no accents), so a word with a typo still finds its article.
  Score: rank (normalized to 0..1, rank/(rank+1)) + the sum of the words' trigram similarities to
  the whole text and to the title (more words found, and in the title, rank higher), computed on
  CANDIDATES rows at most: the full-text matches best by ts_rank_cd, plus as many typo matches
  (the first the trigram index gives), so the cost does not grow with the number of matches.
- SQLite (the embedded desk): search_text contains any query word (LIKE), ranked by how many of
  the words it contains. No stemming, no typo tolerance.
"""
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connection
from django.db.models import Case, F, FloatField, Func, IntegerField, Q, Value, When
from django.db.models.functions import Lower

from .models import Article, Category, Language
from .text import query_forms, query_words

SEARCH_CONFIGS = {Language.ES: "spanish", Language.EN: "english"}
TRIGRAM_MIN_WORD = 4  # shorter words match too much by trigrams
# Rows ranked by the full score (trigram similarities are the cost): the best full-text matches by
# ts_rank_cd, and as many typo matches. bench/helpcenter_search.py measures the bound.
CANDIDATES = 50


def _tsquery(words: list[str], config: str) -> SearchQuery:
    # A prefix term is not stemmed ("devolucion:*" misses "devolu"), so each word goes both ways.
    return SearchQuery(" | ".join(f"{w}:* | {w}" for w in words), search_type="raw", config=config)


def articles_search(text: str, *, language: str | None = None, limit: int = 5, published_only: bool = True) -> list[Article]:
    """Articles matching `text`, best first (at most `limit`). language: "es" / "en" or None for both.
    Each article carries .score (higher is better)."""
    words = query_words(text or "")
    if not words or limit <= 0:
        return []
    qs = Article.objects.select_related("category").defer("search_vector", "search_text")
    if published_only:
        qs = qs.filter(status=Article.Status.PUBLISHED)
    if language:
        qs = qs.filter(language=language)
    if connection.vendor == "postgresql":
        return list(_search_postgres(qs, words, query_forms(text), language)[:limit])
    return list(_search_simple(qs, words)[:limit])


def _search_postgres(qs, words, forms, language):
    if language:
        query = _tsquery(forms, SEARCH_CONFIGS[language])
    else:  # either language's stemming: the vector of each article was built with its own
        query = _tsquery(forms, "spanish") | _tsquery(forms, "english")
    long_words = [w for w in words if len(w) >= TRIGRAM_MIN_WORD]
    # Matching: the full-text query, or any long word found despite a typo: pg_trgm's %> operator
    # (word_similarity >= pg_trgm.word_similarity_threshold, 0.6 by default) on the trigram GIN index.
    rank = SearchRank(F("search_vector"), query, cover_density=True, normalization=Value(32))
    # Candidates, bounded whatever the number of matches: the best CANDIDATES full-text matches by
    # rank (ts_rank_cd over the matches is cheap), and CANDIDATES typo matches in the trigram
    # index's order (a typo's article among more than CANDIDATES trigram matches can be missed:
    # its words then match many articles by full text anyway).
    best_text = qs.filter(search_vector=query).annotate(rank=rank).order_by("-rank", "id").values("pk")[:CANDIDATES]
    match = Q(pk__in=best_text)
    if long_words:
        typo = Q.create([("search_text__trigram_word_similar", w) for w in long_words], connector=Q.OR)
        match |= Q(pk__in=qs.filter(typo).order_by().values("pk")[:CANDIDATES])  # unordered: the scan stops at the bound
    # Ranking (on the candidates only): the full-text rank (0..1) plus each word's trigram
    # similarity to the whole text and to the title, so articles holding more of the words, and in
    # their title, come first, even misspelt.
    title = Lower(Func(F("title"), function="unaccent"))
    if long_words:
        title_score = sum((TrigramWordSimilarity(Value(w), title) + TrigramWordSimilarity(Value(w), "search_text")
                           for w in long_words[1:]),
                          TrigramWordSimilarity(Value(long_words[0]), title) + TrigramWordSimilarity(Value(long_words[0]), "search_text"))
    else:
        title_score = Value(0.0, output_field=FloatField())
    qs = qs.filter(match).annotate(rank=rank, title_score=title_score)
    return qs.annotate(score=F("rank") + F("title_score")).order_by("-score", "-published_at", "id")


def _search_simple(qs, words):
    qs = qs.filter(Q.create([("search_text__contains", w) for w in words], connector=Q.OR))
    hits = [Case(When(search_text__contains=w, then=Value(1)), default=Value(0), output_field=IntegerField()) for w in words]
    score = hits[0]
    for h in hits[1:]:
        score = score + h
    return qs.annotate(score=score).order_by("-score", "-published_at", "id")


# --- the public pages --------------------------------------------------------------------------


def _published(language: str):
    return Article.objects.filter(language=language, status=Article.Status.PUBLISHED)


def public_home(language: str) -> list[dict]:
    """Categories with their published articles in `language` (two queries), then "Other" for
    articles without a category. [{"category": Category | None, "name": str, "articles": [Article]}]."""
    articles = list(_published(language).only("id", "title", "slug", "language", "category_id").order_by("title"))
    categories = list(Category.objects.filter(pk__in={a.category_id for a in articles if a.category_id}))
    by_category: dict = {}
    for a in articles:
        by_category.setdefault(a.category_id, []).append(a)
    shelves = [{"category": c, "name": c.name_in(language), "articles": by_category[c.pk]} for c in categories]
    if None in by_category:
        shelves.append({"category": None, "name": "", "articles": by_category[None]})
    return shelves


def public_category(language: str, slug: str) -> tuple[Category | None, list[Article]]:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        return None, []
    return category, list(_published(language).filter(category=category).only("id", "title", "slug", "language", "body_text").order_by("title"))


def public_article(language: str, slug: str) -> Article | None:
    return _published(language).select_related("category").filter(slug=slug).first()


def article_translation(article: Article, *, published_only: bool = True) -> Article | None:
    """The other language's version of `article`, if any (one query)."""
    qs = Article.objects.filter(translation_key=article.translation_key).exclude(language=article.language)
    if published_only:
        qs = qs.filter(status=Article.Status.PUBLISHED)
    return qs.only("id", "title", "slug", "language", "status").first()


def suggestions(text: str, *, language: str | None, limit: int = 5) -> list[Article]:
    """articles_search in both languages, one version per article: the visitor's language first."""
    found = articles_search(text, language=None, limit=limit * 2)
    if language:
        found.sort(key=lambda a: a.language != language)  # stable: keeps the rank within each language
    seen, kept = set(), []
    for a in found:
        if a.translation_key not in seen:
            seen.add(a.translation_key)
            kept.append(a)
    kept.sort(key=lambda a: -a.score)
    return kept[:limit]


# --- the desk --------------------------------------------------------------------------------


def desk_articles(*, language: str | None = None, status: str | None = None, limit: int = 200, with_body: bool = False) -> list[Article]:
    qs = Article.objects.select_related("author", "category").defer("body_text", "search_text", "search_vector")
    if not with_body:
        qs = qs.defer("body")
    if language:
        qs = qs.filter(language=language)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-updated_at", "-id")[:limit])


def topics_coverage(topics: list[dict], *, per_topic: int = 3) -> list[dict]:
    """Each topic of the reports (apps/reports/topics.py) with the published articles that answer it:
    found by articles_search on the topic's top terms, and kept only when the article holds at least
    half of those words (its first five letters, so "refunds" holds "refund"): one shared common word
    ("order") does not make an article the answer. No article: supervisors should write one.
    Two queries per topic (at most REPORTS_TOPICS_MAX, 12)."""
    rows = []
    for t in topics:
        words = query_words(" ".join(t.get("terms") or []))
        found = articles_search(" ".join(words), limit=per_topic * 3) if words else []
        texts = dict(Article.objects.filter(pk__in=[a.pk for a in found]).values_list("pk", "search_text"))
        needed = max(1, -(-len(words) // 2))
        answers = [a for a in found if sum(w[:5] in texts.get(a.pk, "") for w in words) >= needed][:per_topic]
        rows.append({**t, "articles": answers, "covered": bool(answers)})
    return rows


def translations_of(articles: list[Article]) -> dict[int, int | None]:
    """{article id: its translation's id or None} for a list, in one query (the API's list)."""
    keys = {a.translation_key for a in articles}
    pairs = Article.objects.filter(translation_key__in=keys).values_list("id", "translation_key", "language")
    by_key: dict = {}
    for pk, key, language in pairs:
        by_key.setdefault(key, []).append((pk, language))
    return {a.pk: next((pk for pk, lang in by_key.get(a.translation_key, []) if lang != a.language), None) for a in articles}
