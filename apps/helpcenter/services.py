"""Writes of the help center: articles (sanitized, indexed for search), categories, deflection events.

Who may do what (docs/helpcenter.md): agents, supervisors and admins write and edit articles and
save them as drafts; only supervisors and admins publish, unpublish or delete an article, or
change a published one's text (an agent's edit to a published article is refused: unpublish first
is the supervisor's call). Categories: supervisors and admins.
"""
import uuid

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import F, Func
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.connectors.email.content import clean_html, html_to_text  # the inbound mail sanitizer (nh3)
from apps.core.errors import ApplicationError

from .models import Article, Category, DeflectionEvent, Language
from .selectors import SEARCH_CONFIGS
from .text import normalize

MAX_BODY_CHARS = 200_000


def can_publish(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.sees_everything)


def can_write(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def article_sanitize(html: str) -> tuple[str, str]:
    """(sanitized HTML, its plain text): nh3 as inbound mail is cleaned, remote images dropped."""
    cleaned, _blocked = clean_html((html or "")[:MAX_BODY_CHARS])
    return cleaned, html_to_text(cleaned)


def _unique_slug(*, language: str, wanted: str, title: str, exclude_id: int | None) -> str:
    base = slugify(wanted or title)[:180] or "article"
    taken = set(Article.objects.filter(language=language, slug__startswith=base).exclude(pk=exclude_id).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _index(article: Article) -> None:
    """search_text now (both databases); the PostgreSQL full-text vector in SQL, from unaccent()."""
    article.search_text = normalize(f"{article.title}\n{article.body_text}")
    Article.objects.filter(pk=article.pk).update(search_text=article.search_text)
    if connection.vendor == "postgresql":
        config = SEARCH_CONFIGS[article.language]
        Article.objects.filter(pk=article.pk).update(
            search_vector=SearchVector(Func(F("title"), function="unaccent"), config=config, weight="A")
            + SearchVector(Func(F("body_text"), function="unaccent"), config=config, weight="B")
        )


def _check_translation(*, translation_of: Article | None, language: str, exclude_id: int | None):
    if translation_of is None:
        return None
    if translation_of.language == language:
        raise ApplicationError(_("A translation must be in the other language."))
    taken = Article.objects.filter(translation_key=translation_of.translation_key, language=language).exclude(pk=exclude_id)
    if taken.exists():
        raise ApplicationError(_("That article already has a translation in this language."))
    return translation_of.translation_key


@transaction.atomic
def article_create(*, author, language: str, title: str, body: str, category: Category | None = None, slug: str = "",
                   status: str = Article.Status.DRAFT, translation_of: Article | None = None) -> Article:
    if not can_write(author):
        raise ApplicationError(_("Only desk users may write articles."), status_code=403)
    if status == Article.Status.PUBLISHED and not can_publish(author):
        raise ApplicationError(_("Only supervisors and admins may publish articles."), status_code=403)
    if language not in Language.values:
        raise ApplicationError(_("Unknown language."))
    title = (title or "").strip()
    if not title:
        raise ApplicationError(_("An article needs a title."))
    key = _check_translation(translation_of=translation_of, language=language, exclude_id=None)
    html, text = article_sanitize(body)
    article = Article(language=language, title=title[:200], body=html, body_text=text, category=category, status=status,
                      author=author, slug=_unique_slug(language=language, wanted=slug, title=title, exclude_id=None))
    if key:
        article.translation_key = key
    if status == Article.Status.PUBLISHED:
        article.published_at = timezone.now()
    article.save()
    _index(article)
    return article


@transaction.atomic
def article_update(*, article: Article, actor, **changes) -> Article:
    """changes: any of title, body, slug, category, status, language, translation_of (None unlinks)."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if not can_write(actor):
        raise ApplicationError(_("Only desk users may write articles."), status_code=403)
    publisher = can_publish(actor)
    if article.is_published and not publisher:
        raise ApplicationError(_("Only supervisors and admins may change a published article."), status_code=403)
    status = changes.get("status", article.status)
    if status == Article.Status.PUBLISHED and not article.is_published and not publisher:
        raise ApplicationError(_("Only supervisors and admins may publish articles."), status_code=403)
    if "language" in changes:
        if changes["language"] not in Language.values:
            raise ApplicationError(_("Unknown language."))
        if changes["language"] != article.language and "translation_of" not in changes:
            # a new language leaves the old translation pair
            changes["translation_of"] = None
        article.language = changes["language"]
    if "title" in changes:
        title = (changes["title"] or "").strip()
        if not title:
            raise ApplicationError(_("An article needs a title."))
        article.title = title[:200]
    if "body" in changes:
        article.body, article.body_text = article_sanitize(changes["body"])
    if "category" in changes:
        article.category = changes["category"]
    if "slug" in changes or "language" in changes:
        article.slug = _unique_slug(language=article.language, wanted=changes.get("slug") or article.slug,
                                    title=article.title, exclude_id=article.pk)
    if "translation_of" in changes:
        other = changes["translation_of"]
        if other is not None and other.pk == article.pk:
            raise ApplicationError(_("An article cannot be its own translation."))
        key = _check_translation(translation_of=other, language=article.language, exclude_id=article.pk)
        if key is None:  # a fresh key: the article stands alone
            key = uuid.uuid4()
        article.translation_key = key
    if status != article.status:
        article.status = status
        if status == Article.Status.PUBLISHED:
            article.published_at = timezone.now()
    article.save()
    _index(article)
    return article


@transaction.atomic
def article_delete(*, article: Article, actor) -> None:
    if not can_publish(actor):
        raise ApplicationError(_("Only supervisors and admins may delete articles."), status_code=403)
    article.delete()


def category_create(*, actor, slug: str, name_en: str, name_es: str, position: int = 0) -> Category:
    if not can_publish(actor):
        raise ApplicationError(_("Only supervisors and admins may manage categories."), status_code=403)
    slug = slugify(slug or name_en)[:80]
    if not slug or Category.objects.filter(slug=slug).exists():
        raise ApplicationError(_("That category slug is taken or empty."))
    return Category.objects.create(slug=slug, name_en=name_en.strip()[:120], name_es=(name_es or name_en).strip()[:120], position=position)


def deflection_record(*, visit, kind: str, source: str = DeflectionEvent.Source.WEBFORM, article_ids=(), query: str = "") -> int:
    """Store what self-service did in one visit. "shown": one row per suggested article; "opened":
    the article opened; "submitted": once per visit. Unknown or unpublished articles are skipped.
    Returns the rows written."""
    if kind == DeflectionEvent.Kind.SUBMITTED:
        if DeflectionEvent.objects.filter(visit=visit, kind=kind).exists():
            return 0
        DeflectionEvent.objects.create(visit=visit, kind=kind, source=source)
        return 1
    ids = list(Article.objects.filter(pk__in=list(article_ids)[:10], status=Article.Status.PUBLISHED).values_list("pk", flat=True))
    if not ids:
        return 0
    rows = [DeflectionEvent(visit=visit, kind=kind, source=source, article_id=i, query=(query or "")[:200]) for i in ids]
    DeflectionEvent.objects.bulk_create(rows)
    return len(rows)


def deflection_shown(*, visit, articles, query: str = "", source: str = DeflectionEvent.Source.WEBFORM) -> int:
    """Suggestions shown to a visit: one row per article not shown to it before (a visitor typing
    sees the same article after each keystroke)."""
    ids = [a.pk for a in articles]
    before = set(DeflectionEvent.objects.filter(visit=visit, kind=DeflectionEvent.Kind.SHOWN, article_id__in=ids)
                 .values_list("article_id", flat=True))
    rows = [DeflectionEvent(visit=visit, kind=DeflectionEvent.Kind.SHOWN, source=source, article_id=i, query=(query or "")[:200])
            for i in ids if i not in before]
    DeflectionEvent.objects.bulk_create(rows)
    return len(rows)
