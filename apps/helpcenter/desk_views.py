"""/desk/help/: agents and supervisors write articles; supervisors and admins publish them.

Server-rendered forms; the editor (static/helpcenter/editor.js) is a small contenteditable
toolbar that fills the body field; without script the body is an HTML textarea. Either way the
server sanitizes (services.article_sanitize). The same services as /api/help/ write.
"""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.errors import ApplicationError
from apps.reports.selectors import report_filters
from apps.reports.topics import topics_report

from . import selectors, services
from .models import Article, Category, Language


class ArticleForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=Language.choices)
    category = forms.ModelChoiceField(label=gettext_lazy("Category"), queryset=Category.objects.all(), required=False,
                                      empty_label=gettext_lazy("No category"))
    slug = forms.SlugField(label=gettext_lazy("Address (slug)"), max_length=200, required=False,
                           help_text=gettext_lazy("Blank: made from the title."))
    translation_of = forms.ModelChoiceField(
        label=gettext_lazy("Translation of"), required=False, empty_label=gettext_lazy("Not a translation"),
        queryset=Article.objects.only("id", "title", "language").order_by("language", "title"),
        help_text=gettext_lazy("The same article in the other language: readers can switch between the two."))
    body = forms.CharField(label=gettext_lazy("Body"), required=False, widget=forms.Textarea(attrs={"rows": 14}))

    def __init__(self, *args, exclude_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        if exclude_id:
            self.fields["translation_of"].queryset = self.fields["translation_of"].queryset.exclude(pk=exclude_id)
        self.fields["translation_of"].label_from_instance = lambda a: f"[{a.language}] {a.title}"
        self.fields["category"].label_from_instance = lambda c: c.name_in(get_language())


def _action_status(request, article: Article | None) -> str:
    """The button pressed (its name): publish, unpublish, or save (the status stays)."""
    if "publish" in request.POST:
        return Article.Status.PUBLISHED
    if "unpublish" in request.POST:
        return Article.Status.DRAFT
    return article.status if article else Article.Status.DRAFT


@login_required
@require_GET
def article_list(request):
    language = request.GET.get("language") if request.GET.get("language") in Language.values else None
    status = request.GET.get("status") if request.GET.get("status") in Article.Status.values else None
    q = request.GET.get("q", "").strip()[:200]
    if q:
        articles = selectors.articles_search(q, language=language, limit=50, published_only=False)
        if status:
            articles = [a for a in articles if a.status == status]
    else:
        articles = selectors.desk_articles(language=language, status=status)
    return render(request, "helpcenter/desk_list.html", {
        "articles": articles, "q": q, "language": language, "status": status, "languages": Language.choices,
        "statuses": Article.Status.choices, "can_publish": services.can_publish(request.user), "section": "articles",
    })


@login_required
@require_http_methods(["GET", "POST"])
def article_new(request):
    initial = {"language": request.GET.get("language") or request.LANGUAGE_CODE, "title": request.GET.get("title", "")[:200]}
    if request.GET.get("translation_of", "").isdigit():
        initial["translation_of"] = request.GET["translation_of"]
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            article = services.article_create(
                author=request.user, language=data["language"], title=data["title"], body=data["body"],
                category=data["category"], slug=data["slug"], translation_of=data["translation_of"],
                status=_action_status(request, None),
            )
        except ApplicationError as exc:
            if exc.status_code == 403:
                raise PermissionDenied(exc.message) from exc
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Article saved."))
            return redirect("help-article-edit", article_id=article.pk)
    return render(request, "helpcenter/desk_edit.html", {"form": form, "article": None, "can_publish": services.can_publish(request.user), "section": "articles"})


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request, article_id: int):
    article = get_object_or_404(Article.objects.select_related("author", "category"), pk=article_id)
    translated = selectors.article_translation(article, published_only=False)
    form = ArticleForm(request.POST or None, exclude_id=article.pk, initial={
        "title": article.title, "language": article.language, "category": article.category_id, "slug": article.slug,
        "translation_of": translated.pk if translated else None, "body": article.body,
    })
    if request.method == "POST":
        try:
            if "delete" in request.POST:
                services.article_delete(article=article, actor=request.user)
                messages.success(request, _("Article deleted."))
                return redirect("help-articles")
            if form.is_valid():
                data = form.cleaned_data
                changes = {k: data[k] for k in ("title", "language", "category", "slug", "body")}
                if (data["translation_of"].pk if data["translation_of"] else None) != (translated.pk if translated else None):
                    changes["translation_of"] = data["translation_of"]
                services.article_update(article=article, actor=request.user, status=_action_status(request, article), **changes)
                messages.success(request, _("Article saved."))
                return redirect("help-article-edit", article_id=article.pk)
        except ApplicationError as exc:
            if exc.status_code == 403:
                raise PermissionDenied(exc.message) from exc
            form.add_error(None, exc.message)
    return render(request, "helpcenter/desk_edit.html", {
        "form": form, "article": article, "translated": translated, "can_publish": services.can_publish(request.user),
        "editable": services.can_publish(request.user) or not article.is_published,
        "other_language": Language.EN if article.language == Language.ES else Language.ES, "section": "articles",
    })


@login_required
@require_GET
def topics_page(request):
    """The frequent questions of the reports (last 30 days by default), each with the published
    articles that answer it, so supervisors see what to write next."""
    if not request.user.sees_everything:
        raise PermissionDenied(_("Only supervisors and admins see the topics."))
    try:
        f = report_filters(user=request.user, params=request.GET)
    except (ValueError, PermissionError):
        f = report_filters(user=request.user, params={})
    report = topics_report(f)
    rows = selectors.topics_coverage(report.get("topics", []))
    for row in rows:
        row["write_url"] = reverse("help-article-new") + "?" + urlencode({"title": row["label"].capitalize()})
    return render(request, "helpcenter/desk_topics.html", {"report": report, "rows": rows, "f": f, "section": "topics"})
