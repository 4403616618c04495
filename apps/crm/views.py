"""The admin's data-protection pages: the retention setting, finding a customer, their export and erasure."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.permissions import desk_admin_required
from apps.core.errors import ApplicationError
from apps.core.net import client_ip

from . import data_protection, selectors
from .data_protection_api import export_response
from .forms import EraseForm, RetentionForm
from .models import Customer, DataProtectionSettings

FOUND_MAX = 25


@desk_admin_required
@require_http_methods(["GET", "POST"])
def privacy(request):
    current = DataProtectionSettings.current()
    form = RetentionForm(request.POST or None, initial={"retention_months": current.retention_months})
    if request.method == "POST" and form.is_valid():
        try:
            data_protection.retention_set(actor=request.user, months=form.cleaned_data["retention_months"], ip=client_ip(request))
        except ApplicationError as exc:
            form.add_error("retention_months", exc.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("privacy")
    q = request.GET.get("q", "").strip()[:200]
    found = []
    if q:
        qs = selectors.customer_search(user=request.user, q=q)
        if q.isdigit():
            qs = qs | Customer.objects.filter(pk=int(q), merged_into__isnull=True)
        found = list(qs.prefetch_related("identities").order_by("-created_at", "-id")[:FOUND_MAX])
    return render(request, "console/privacy.html", {"section": "privacy", "form": form, "q": q, "found": found},
                  status=400 if form.errors else 200)


@desk_admin_required
@require_http_methods(["GET", "POST"])
def privacy_customer(request, customer_id: int):
    customer = get_object_or_404(Customer.objects.prefetch_related("identities"), pk=customer_id)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            counts = data_protection.customer_erase(customer=customer, actor=request.user, confirm=form.cleaned_data["confirm"],
                                                    ip=client_ip(request))
        except ApplicationError as exc:
            form.add_error("confirm", exc.message)
        else:
            messages.success(request, _("Customer #%(id)d erased: %(messages)d messages and %(attachments)d attachments redacted, "
                                        "%(identities)d identities removed.") % {"id": customer.pk, **counts})
            return redirect("privacy-customer", customer_id=customer.pk)
    return render(request, "console/privacy_customer.html", {
        "section": "privacy", "customer": customer, "summary": data_protection.customer_summary(customer=customer), "form": form,
    }, status=400 if form.errors else 200)


@desk_admin_required
@require_GET
def privacy_export(request, customer_id: int):
    customer = get_object_or_404(Customer, pk=customer_id)
    try:
        return export_response(customer=customer, actor=request.user, ip=client_ip(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("privacy-customer", customer_id=customer.pk)
