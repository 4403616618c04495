"""The admin's pages for outgoing webhooks (admins only)."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from apps.accounts.permissions import desk_admin_required
from apps.core.errors import ApplicationError
from apps.core.keyset import KeysetPagination
from apps.core.net import client_ip

from . import selectors, services, signing
from .forms import WebhookForm
from .models import WebhookDelivery, WebhookEndpoint

SECRET_KEY = "webhook-secret-once"  # session key: the new secret, shown on the next page only


@desk_admin_required
@require_http_methods(["GET", "POST"])
def webhooks(request):
    form = WebhookForm(request.POST or None, initial={"enabled": True})
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        try:
            endpoint, secret = services.webhook_endpoint_create(actor=request.user, name=v["name"], url=v["url"],
                                                                event_types=v["event_types"], ip=client_ip(request))
            if not v["enabled"]:
                services.webhook_endpoint_update(actor=request.user, endpoint=endpoint, enabled=False, ip=client_ip(request))
        except ApplicationError as exc:
            form.add_error(exc.extra.get("field"), exc.message)
        else:
            request.session[SECRET_KEY] = secret
            return redirect("webhook", webhook_id=endpoint.pk)
    return render(request, "console/webhooks.html", {"section": "webhooks", "endpoints": selectors.endpoints_list(), "form": form},
                  status=400 if form.errors else 200)


class _Pages(KeysetPagination):
    page_size = 50


@desk_admin_required
@require_http_methods(["GET", "POST"])
def webhook(request, webhook_id: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_id)
    form = WebhookForm(request.POST or None, initial={"name": endpoint.name, "url": endpoint.url,
                                                     "event_types": endpoint.event_types, "enabled": endpoint.enabled})
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_endpoint_update(actor=request.user, endpoint=endpoint, ip=client_ip(request), **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(exc.extra.get("field"), exc.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("webhook", webhook_id=endpoint.pk)
    status_filter = request.GET.get("status", "")
    paginator = _Pages()
    try:
        deliveries = paginator.paginate_queryset(selectors.deliveries_of(endpoint=endpoint, status=status_filter), Request(request))
    except NotFound:
        deliveries = []
    return render(request, "console/webhook.html", {
        "section": "webhooks", "endpoint": endpoint, "form": form, "deliveries": deliveries,
        "next_url": paginator.get_next_link() if deliveries else None, "status_filter": status_filter,
        "statuses": WebhookDelivery.Status.choices, "secret": request.session.pop(SECRET_KEY, None),
        "headers": {"timestamp": signing.TIMESTAMP_HEADER, "signature": signing.SIGNATURE_HEADER},
    }, status=400 if form.errors else 200)


def _act(request, endpoint, action, done):
    try:
        result = action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if done:
            messages.success(request, done)
        return result
    return None


@desk_admin_required
@require_POST
def webhook_resume(request, webhook_id: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_id)
    _act(request, endpoint, lambda: services.webhook_endpoint_resume(actor=request.user, endpoint=endpoint, ip=client_ip(request)),
         _("Resumed: new events are sent again."))
    return redirect("webhook", webhook_id=endpoint.pk)


@desk_admin_required
@require_POST
def webhook_rotate(request, webhook_id: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_id)
    request.session[SECRET_KEY] = services.webhook_endpoint_rotate_secret(actor=request.user, endpoint=endpoint, ip=client_ip(request))
    return redirect("webhook", webhook_id=endpoint.pk)


@desk_admin_required
@require_POST
def webhook_delete(request, webhook_id: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_id)
    services.webhook_endpoint_delete(actor=request.user, endpoint=endpoint, ip=client_ip(request))
    messages.success(request, _("Webhook deleted."))
    return redirect("webhooks")


@desk_admin_required
@require_POST
def delivery_resend(request, delivery_id: int):
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id)
    services.webhook_delivery_resend(actor=request.user, delivery=delivery, ip=client_ip(request))
    messages.success(request, _("Sent again: the new attempt is at the top of the list."))
    return redirect("webhook", webhook_id=delivery.endpoint_id)
