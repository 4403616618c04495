"""The help center (knowledge base): categories, articles in Spanish and English, deflection events.

- A Category has one slug and a name per language (name_en, name_es): the same category in both
  languages, so /help/es/envios/ and /help/en/envios/ list the two halves of one shelf.
- An Article is one language's version. The Spanish and English versions of one article share a
  translation_key (unique per language): the link is symmetric and needs no second write.
- body is sanitized HTML (services.article_save runs it through the mail sanitizer); body_text is
  its plain text (meta description, search); search_text is title + text in lower case without
  accents (the trigram index and the SQLite search read it); search_vector is the PostgreSQL
  full-text vector (Spanish or English configuration by the article's language), written by the
  service after every save and indexed with GIN (migrations/0002, PostgreSQL only).
"""
import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ES = "es", _("Spanish")
    EN = "en", _("English")


class Category(models.Model):
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_es = models.CharField(_("name (Spanish)"), max_length=120)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("help category")
        verbose_name_plural = _("help categories")

    def __str__(self):
        return self.name_en

    def name_in(self, language: str) -> str:
        return self.name_es if language == Language.ES else self.name_en

    def get_absolute_url(self, language: str = Language.EN) -> str:
        return reverse("helpcenter:category", args=[language, self.slug])


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    translation_key = models.UUIDField(_("translation key"), default=uuid.uuid4, editable=False)
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="articles")
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200)
    body = models.TextField(_("body"), blank=True)  # sanitized HTML
    body_text = models.TextField(blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="help_articles")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["language", "slug"], name="helpcenter_article_slug_per_language"),
            models.UniqueConstraint(fields=["translation_key", "language"], name="helpcenter_one_translation_per_language"),
        ]
        indexes = [
            models.Index(fields=["language", "status", "category"], name="helpcenter_article_public"),
            models.Index(fields=["translation_key"], name="helpcenter_article_translation"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def get_absolute_url(self) -> str:
        """The public page (only published articles answer there; drafts are 404)."""
        return reverse("helpcenter:article", args=[self.language, self.slug])


class DeflectionEvent(models.Model):
    """What self-service did during one anonymous visit of a contact form (or one API caller's
    session): suggestions shown, an article opened, the form sent anyway. The visit id is made by
    the visitor's browser (a random UUID kept in sessionStorage); nothing else identifies them."""

    class Kind(models.TextChoices):
        SHOWN = "shown", _("Suggestions shown")
        OPENED = "opened", _("Article opened")
        SUBMITTED = "submitted", _("Form sent")

    class Source(models.TextChoices):
        WEBFORM = "webform", _("Web form")
        API = "api", _("Push API")

    visit = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEBFORM)
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    query = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["visit", "kind"], name="helpcenter_deflection_visit")]
