"""The public form page /f/<slug>/ (no login) and its confirmation page.

?embed=1 is the iframe version for the company's own site: framed only by the form's
allowed origins (CSP frame-ancestors), and protected by a signed token in the form instead of
Django's CSRF cookie, which a browser does not send from inside a third-party iframe.
"""
import ipaddress
import logging

from csp.constants import SELF
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.core.net import client_ip  # the one rule for a client's address (the sign-in lockout's too)

from .extensions import PAGE_INCLUDES
from .forms import EMBED_TOKEN, SubmissionForm, embed_token_valid
from .models import WebForm
from .services import rate_limit_hit, submission_rate_limit, webform_submit

logger = logging.getLogger(__name__)

# Bound on the whole POST body (30 fields at their ceilings fit well inside).
MAX_BODY_BYTES = 64 * 1024


@csrf_exempt  # checked in the view: Django's CSRF on the page itself, the signed token inside an embed
@require_http_methods(["GET", "HEAD", "POST"])
def form_page(request, slug):
    webform = _enabled_form(slug)
    embed = request.GET.get("embed") == "1"
    if webform is None:
        return _framed(render(request, "webform/unavailable.html", {"embed": embed}, status=404), None, embed)
    specs = list(webform.fields.all())
    if request.method != "POST":
        form = SubmissionForm(specs=specs, embed_slug=webform.slug if embed else None)
        return _page(request, webform, form, embed)

    if _body_too_large(request):
        return _framed(render(request, "webform/too_large.html", {"webform": webform, "embed": embed}, status=413), webform, embed)
    ip = client_ip(request)
    retry_after = rate_limit_hit(scope="submit", subject=rate_limit_subject(ip), rate=submission_rate_limit())
    if retry_after:
        logger.warning("web form %s: rate limit for %s", webform.slug, ip)
        response = render(request, "webform/rate_limited.html", {"webform": webform, "embed": embed, "minutes": -(-retry_after // 60)}, status=429)
        response["Retry-After"] = str(retry_after)
        return _framed(response, webform, embed)

    form = SubmissionForm(request.POST, specs=specs, embed_slug=webform.slug if embed else None)
    if not _origin_checked(request, webform, embed):
        # Values kept: the visitor just sends again with a fresh token / cookie.
        form.is_valid()
        form.add_error(None, _("This page was open too long or its session expired. Please check your answers and send again."))
        return _page(request, webform, form, embed, status=403)
    if form.honeypot_filled():
        # A bot: it sees the usual confirmation, nothing is stored.
        logger.info("web form %s: honeypot filled from %s; submission dropped", webform.slug, ip)
        return _to_thanks(webform, embed)
    if not form.is_valid():
        return _page(request, webform, form, embed)
    webform_submit(
        webform=webform, values=form.submitted_values(), ip=ip, user_agent=request.META.get("HTTP_USER_AGENT", "")
    )
    return _to_thanks(webform, embed)


@require_http_methods(["GET", "HEAD"])
def thanks_page(request, slug):
    webform = _enabled_form(slug)
    embed = request.GET.get("embed") == "1"
    if webform is None:
        return _framed(render(request, "webform/unavailable.html", {"embed": embed}, status=404), None, embed)
    context = {"webform": webform, "embed": embed, "page": "thanks", "page_includes": PAGE_INCLUDES}
    return _framed(render(request, "webform/thanks.html", context), webform, embed)


def _body_too_large(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES
    except ValueError:  # not a number: Django bounds what it reads anyway (DATA_UPLOAD_MAX_MEMORY_SIZE)
        return False


def _enabled_form(slug: str) -> WebForm | None:
    # A disabled channel account closes its forms too.
    return WebForm.objects.select_related("channel_account").filter(slug=slug, enabled=True, channel_account__enabled=True).first()


def _page(request, webform, form, embed, status=200):
    context = {"webform": webform, "form": form, "embed": embed, "fields": form.visible_fields_in_order,
               "page": "form", "page_includes": PAGE_INCLUDES}
    return _framed(render(request, "webform/form.html", context, status=status), webform, embed)


def _to_thanks(webform, embed):
    url = reverse("webform:thanks", args=[webform.slug]) + ("?embed=1" if embed else "")
    return _framed(redirect(url), webform, embed)


def _origin_checked(request, webform, embed) -> bool:
    if embed:
        return embed_token_valid(request.POST.get(EMBED_TOKEN, ""), webform.slug)
    # The page itself: Django's CSRF check, as the middleware would have done it.
    check = CsrfViewMiddleware(lambda r: None)
    check.process_request(request)
    return check.process_view(request, None, (), {}) is None


def _framed(response, webform, embed):
    """Only the embed may be framed, and only by the form's allowed origins.

    The rest of the page's Content-Security-Policy is the desk's own (CONTENT_SECURITY_POLICY,
    written by django-csp's middleware); this replaces its frame-ancestors 'none' only.
    """
    origins = webform.origins if (embed and webform is not None) else []
    if origins:
        response.xframe_options_exempt = True
    response._csp_replace = {"frame-ancestors": [SELF, *origins]}
    return response


# --- who is asking ---------------------------------------------------------------------------


def rate_limit_subject(ip: str) -> str:
    """IPv6 clients get a whole /64 each: count per /64, or every request would be a new address."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
