"""The audit log page and its CSV export (admins only)."""
from urllib.parse import urlencode

from django.core.exceptions import BadRequest
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from django.utils.translation import gettext_lazy as _

from apps.accounts.permissions import desk_admin_required
from apps.core.errors import ApplicationError

from . import selectors
from .actions import action_label
from .pagination import AuditPagination

ACTION_GROUPS = [("user.", _("Users: every change")), ("team.", _("Teams: every change")), ("auth.", _("Sign-ins")),
                 ("channel_account.", _("Channels")), ("webform.", _("Web forms")), ("webhook.", _("Webhooks")),
                 ("customer.", _("Customers' data")), ("settings.", _("Settings")), ("sla.", _("SLA")),
                 ("routing.", _("Priority rules")), ("canned.", _("Canned responses"))]
TARGET_TYPES = ["user", "team", "customer", "webhookendpoint", "conversation", "settings"]


def _filters(request) -> selectors.AuditFilters:
    try:
        return selectors.AuditFilters.from_query(request.GET)
    except ApplicationError as exc:
        raise BadRequest(exc.message) from exc


@desk_admin_required
@require_GET
def audit_log(request):
    filters = _filters(request)
    paginator = AuditPagination()
    try:
        entries = paginator.paginate_queryset(selectors.audit_list(filters=filters), Request(request))
    except NotFound:
        raise BadRequest("Bad cursor") from None
    for entry in entries:
        entry.changes = _changes(entry)
        entry.action_label = action_label(entry.action)
        entry.conversation_links = [int(c) for c in (entry.after or {}).get("released_conversations", [])][:50]
    query = {k: request.GET.get(k, "") for k in selectors.AuditFilters.KEYS if request.GET.get(k)}
    return render(request, "console/audit_log.html", {
        "section": "audit",
        "entries": entries,
        "next_url": paginator.get_next_link(),
        "previous_url": paginator.get_previous_link(),
        "filters": query,
        "actions": [(code, action_label(code)) for code in selectors.action_names()],
        "action_groups": ACTION_GROUPS,
        "target_types": TARGET_TYPES,
        "export_query": urlencode(query),
    })


@desk_admin_required
@require_GET
def audit_export(request):
    filters = _filters(request)
    response = StreamingHttpResponse(selectors.audit_csv_rows(filters=filters), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response


def _changes(entry) -> list[tuple]:
    """(field, before, after, had a before, has an after) for the page's before -> after column."""
    before, after = entry.before or {}, entry.after or {}
    keys = list(before) + [k for k in after if k not in before and k != "released_conversations"]
    return [(k, _show(before.get(k)), _show(after.get(k)), k in before, k in after) for k in keys]


def _show(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return "—" if value in (None, "") else str(value)
