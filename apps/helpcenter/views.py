"""The public help center (/help/...; no login): thin views over selectors.

?embed=1 on any page (and /help/embed/) is the version for the company's own site: no header,
links that stay in the frame, and framing allowed for HELPCENTER_EMBED_ORIGINS (CSP
frame-ancestors; X-Frame-Options dropped for those pages only). docs/helpcenter.md.
"""
import json
import uuid

from csp.constants import SELF
from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.connectors.webform.services import rate_limit_hit
from apps.connectors.webform.views import rate_limit_subject
from apps.core.net import client_ip

from . import selectors, services
from .models import DeflectionEvent, Language

SUGGEST_LIMIT = 3  # a short list under the subject: more is reading, not deflecting
MAX_EVENT_BYTES = 4096


def _language(lang: str) -> str:
    if lang not in Language.values:
        raise Http404
    return lang


def _visitor_language(request) -> str:
    lang = translation.get_language_from_request(request)
    return lang if lang in Language.values else settings.LANGUAGE_CODE


def _embedded(request) -> bool:
    return request.GET.get("embed") == "1"


def _framed(response, embed: bool):
    """The desk's CSP for every page; only the embed may be framed, by the configured origins."""
    if embed:
        origins = list(getattr(settings, "HELPCENTER_EMBED_ORIGINS", []))
        response._csp_replace = {"frame-ancestors": [SELF, *origins]}
        if origins:
            response.xframe_options_exempt = True
        else:
            response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _page(request, template, context, lang, *, status=200, alternates=None):
    embed = _embedded(request)
    with translation.override(lang):
        response = render(request, template, {
            **context, "lang": lang, "embed": embed, "embed_suffix": "?embed=1" if embed else "",
            "alternates": alternates or [], "other_lang": Language.EN if lang == Language.ES else Language.ES,
        }, status=status)
    response["Content-Language"] = lang
    return _framed(response, embed)


@require_GET
def help_root(request):
    return redirect("helpcenter:home", lang=_visitor_language(request))


@require_GET
@cache_control(max_age=3600)
def robots_txt(request):
    """/robots.txt of the desk's host: search engines may crawl the public help center (and are
    told where its sitemap is), nothing else (the desk, the forms, the JSON endpoints)."""
    sitemap = request.build_absolute_uri(reverse("helpcenter:sitemap"))
    lines = ["User-agent: *", "Allow: /help/", "Disallow: /help/suggest/", "Disallow: /help/events/",
             "Disallow: /help/embed/", "Disallow: /", f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@require_GET
def help_embed(request):
    lang = request.GET.get("lang") or _visitor_language(request)
    return redirect(reverse("helpcenter:home", args=[lang if lang in Language.values else settings.LANGUAGE_CODE]) + "?embed=1")


@require_GET
def help_home(request, lang):
    lang = _language(lang)
    q = request.GET.get("q", "").strip()[:200]
    results = selectors.articles_search(q, language=lang, limit=20) if q else None
    alternates = [(code, reverse("helpcenter:home", args=[code])) for code in Language.values]
    return _page(request, "helpcenter/home.html", {"shelves": selectors.public_home(lang), "q": q, "results": results},
                 lang, alternates=alternates)


@require_GET
def category_page(request, lang, slug):
    lang = _language(lang)
    category, articles = selectors.public_category(lang, slug)
    if category is None:
        raise Http404
    alternates = [(code, reverse("helpcenter:category", args=[code, slug])) for code in Language.values]
    return _page(request, "helpcenter/category.html", {"category": category, "category_name": category.name_in(lang),
                                                        "articles": articles}, lang, alternates=alternates)


@require_GET
def article_page(request, lang, slug):
    lang = _language(lang)
    article = selectors.public_article(lang, slug)
    if article is None:
        raise Http404
    translated = selectors.article_translation(article)
    alternates = [(article.language, article.get_absolute_url())]
    if translated:
        alternates.append((translated.language, translated.get_absolute_url()))
    return _page(request, "helpcenter/article.html", {
        "article": article, "translated": translated,
        "category_name": article.category.name_in(lang) if article.category else "",
        "description": " ".join(article.body_text.split())[:155],
    }, lang, alternates=sorted(alternates))


def _visit(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def suggest_rate_limit() -> str:
    """The public suggestions' and deflection events' limit per visitor address."""
    return getattr(settings, "HELPCENTER_SUGGEST_RATE_LIMIT", "120/10m")


def _limited(request, scope: str) -> int:
    return rate_limit_hit(scope=scope, subject=rate_limit_subject(client_ip(request)), rate=suggest_rate_limit())


def suggestion_data(articles) -> list[dict]:
    return [{"id": a.id, "title": a.title, "language": a.language, "url": a.get_absolute_url(),
             "excerpt": " ".join(a.body_text.split())[:140]} for a in articles]


@require_GET
@cache_control(private=True, no_store=True)
def suggest(request):
    """GET ?q=subject&lang=es&visit=<uuid>: up to 5 published articles (JSON). With a visit id, the
    articles shown are recorded (once each per visit) for the deflection rate."""
    retry_after = _limited(request, "help-suggest")
    if retry_after:
        response = JsonResponse({"articles": [], "message": "Too many requests"}, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    q = request.GET.get("q", "")[:200]
    lang = request.GET.get("lang")
    articles = selectors.suggestions(q, language=lang if lang in Language.values else None, limit=SUGGEST_LIMIT)
    visit = _visit(request.GET.get("visit"))
    if visit and articles:
        services.deflection_shown(visit=visit, articles=articles, query=q, source=DeflectionEvent.Source.WEBFORM)
    return JsonResponse({"articles": suggestion_data(articles)})


@csrf_exempt  # an anonymous counter from the public (possibly framed) form; no session involved
@require_POST
def deflection_event(request):
    """POST {"visit": uuid, "kind": "opened", "article": id} or {"visit": uuid, "kind": "submitted"}: 204."""
    if len(request.body) > MAX_EVENT_BYTES:
        return JsonResponse({"message": "Too large"}, status=413)
    if _limited(request, "help-events"):
        return JsonResponse({"message": "Too many requests"}, status=429)
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"message": "Invalid JSON"}, status=400)
    if not isinstance(data, dict):
        return JsonResponse({"message": "Invalid JSON"}, status=400)
    visit, kind = _visit(data.get("visit")), data.get("kind")
    if visit is None or kind not in (DeflectionEvent.Kind.OPENED, DeflectionEvent.Kind.SUBMITTED):
        return JsonResponse({"message": "visit (uuid) and kind (opened, submitted) are required"}, status=400)
    article_id = data.get("article")
    if kind == DeflectionEvent.Kind.OPENED and not isinstance(article_id, int):
        return JsonResponse({"message": "article (id) is required"}, status=400)
    services.deflection_record(visit=visit, kind=kind, article_ids=[article_id] if article_id else [])
    return HttpResponse(status=204)
