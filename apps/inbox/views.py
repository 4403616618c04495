"""Server-rendered pages of the desk, and the HTML fragments its small client swaps in.

The first screen (list page, open conversation, customer sidebar) is rendered here, so the
desk shows its state before any JavaScript runs. Live updates re-fetch fragments of the same
templates (`/desk/rows/?ids=`, `/desk/conversations/<id>/messages/?ids=`, ...) rather than
building HTML in JavaScript: one rendering path, autoescaped by Django. Data reaches the
templates in the REST API's own shapes (its serializers and selectors), so every field the API
grows (tags, SLA, unread) shows here the same way, with the same prefetching and visibility
checks: an invisible conversation or customer is a 404, as in the API.
"""
from datetime import datetime
from urllib.parse import parse_qs, urlencode, urlsplit

from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, gettext_lazy as _, pgettext_lazy
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from apps.accounts.models import Role, Team, User
from apps.core import realtime
from apps.core.errors import ApplicationError
from apps.core.parsing import datetime_parse, id_list_parse, id_parse
from apps.crm import selectors as crm_selectors

from . import selectors
from .api import ConversationPagination, ConversationSerializer, MessageSerializer, TimelineMessageSerializer
from .channels import composer_rules, kind_choices
from .models import IN_QUEUE, Conversation, Message

VIEWS = [("all", _("All")), ("mine", _("Mine")), ("unassigned", _("Unassigned")), ("teams", _("My teams"))]
STATUS_FILTERS = [
    ("open,pending", _("Open & pending")), ("open", _("Open")), ("pending", _("Pending")), ("snoozed", _("Snoozed")),
    ("resolved", _("Resolved")), ("spam", _("Spam")), ("any", _("Any status")),
]
SLA_FILTERS = [("", _("Any SLA")), ("breached", _("Breached")), ("warning", _("Due soon")), ("ok", _("On time")), ("paused", _("Paused"))]
# Words the providers give us as codes (phone/parse.py FINAL_STATUSES, the staging sources).
CALL_STATUS_LABELS = {  # a call's result (context "call": the Spanish words agree with "llamada")
    "completed": pgettext_lazy("call", "Completed"), "busy": pgettext_lazy("call", "Busy"),
    "no-answer": pgettext_lazy("call", "No answer"), "failed": pgettext_lazy("call", "Failed"),
    "canceled": pgettext_lazy("call", "Canceled"), "ringing": pgettext_lazy("call", "Ringing"),
    "in-progress": pgettext_lazy("call", "In progress"), "queued": pgettext_lazy("call", "Queued"),
}
CALL_SOURCE_LABELS = {"manual": _("Logged by an agent"), "import": _("Imported")}
FILTER_KEYS = ("view", "status", "channel", "priority", "tag", "sla", "q")
TIMELINE_PAGE = 30
THREAD_LIMIT = 300  # newest messages of a very long thread; older ones stay in the customer timeline
MENTIONABLE_LIMIT = 500


# --- helpers ---------------------------------------------------------------------------------


def _dt(value):
    return parse_datetime(value) if isinstance(value, str) else value


def _with_times(row: dict, *keys: str) -> dict:
    """Serialized rows carry ISO strings; the templates want datetimes for |date."""
    for key in keys:
        row[f"{key}_dt"] = _dt(row.get(key))
    return row


def _safe_url(url) -> str:
    """Only web links become hrefs (a provider could hand us javascript: or data: URLs)."""
    return url if isinstance(url, str) and url.lower().startswith(("https://", "http://", "/")) else ""


def _message(row: dict) -> dict:
    """A serialized message with what the template shows precomputed: times, safe links, durations."""
    row = _with_times(dict(row), "sent_at")
    details = row.get("details") or {}
    call = details.get("call") or {}
    seconds = call.get("duration_seconds")
    row["links"] = {
        "recording": _safe_url(call.get("recording_url")),
        "twitter": _safe_url((details.get("twitter") or {}).get("url")),
        "facebook": _safe_url((details.get("facebook") or {}).get("permalink")),
    }
    row["call_duration"] = f"{seconds // 60}:{seconds % 60:02d}" if isinstance(seconds, int) else ""
    row["call_started"] = _dt(call.get("started_at"))
    status = call.get("status") or ""
    row["call_status_label"] = CALL_STATUS_LABELS.get(status, status.capitalize())
    source = call.get("source") or ""
    row["call_source_label"] = CALL_SOURCE_LABELS.get(source, source.capitalize())
    delivery = row.get("delivery_status") or ""
    row["delivery_label"] = Message.Delivery(delivery).label if delivery in Message.Delivery.values else delivery
    for attachment in row.get("attachments") or []:
        attachment["safe_url"] = _safe_url(attachment.get("url"))
    return row


def _query(state: dict) -> str:
    """The filter state as a query string, for links that keep the list as it is."""
    return urlencode({key: value for key, value in state.items() if value and not (key == "view" and value == "all")})


def _filter_state(request) -> dict:
    params = request.GET
    state = {key: (params.get(key) or "").strip() for key in FILTER_KEYS}
    state["view"] = state["view"] if state["view"] in dict(VIEWS) else "all"
    state["status"] = state["status"] or "open,pending"
    return state


def _list_params(state: dict) -> dict:
    """The filter state as the API's list query (selectors.ConversationFilters.from_query)."""
    return {key: value for key, value in state.items() if value}


def _conversations(request, state: dict, *, ids=None):
    """(rows as the API serializes them, next-page cursor) for the filter state."""
    try:
        filters = selectors.ConversationFilters.from_query(_list_params(state))
    except ApplicationError as exc:  # e.g. a hand-edited ?status=
        raise BadRequest(str(exc)) from exc
    qs = selectors.conversation_list(user=request.user, filters=filters)
    if ids is not None:
        rows = list(qs.filter(pk__in=ids)[: len(ids)])
        next_cursor = None
    else:
        paginator = ConversationPagination()  # the API's keyset pages: ?cursor= works in both
        try:
            rows = paginator.paginate_queryset(qs, Request(request))
        except NotFound:
            raise Http404("Invalid cursor") from None
        next_link = paginator.get_next_link()
        next_cursor = parse_qs(urlsplit(next_link).query)["cursor"][0] if next_link else None
    data = ConversationSerializer(rows, many=True, context={"request": request}).data
    return [_row(row) for row in data], next_cursor


def _row(data) -> dict:
    row = _with_times(dict(data), "last_activity_at", "waiting_since")
    status = row.get("status")
    row["status_label"] = Conversation.Status(status).label if status in Conversation.Status.values else status
    return row


def _nav(user) -> list[tuple[str, str, int]]:
    """(view, label, open work) for the left nav: one aggregate query."""
    counts = _counts(user)
    return [(key, label, counts[key]) for key, label in VIEWS]


def _counts(user) -> dict:
    qs = selectors.conversations_visible(user=user).filter(status__in=IN_QUEUE)
    team_ids = [team["id"] for team in _desk_user(user)["teams"]]
    return qs.aggregate(
        all=Count("id"),
        mine=Count("id", filter=Q(assignee_id=user.id)),
        unassigned=Count("id", filter=Q(assignee__isnull=True)),
        teams=Count("id", filter=Q(team_id__in=team_ids)),
    )


def _desk_user(user) -> dict:
    if hasattr(user, "_desk_teams"):  # once per request: several panes want it
        teams = user._desk_teams
    else:
        teams = user._desk_teams = list(user.teams.all())
    return {
        "id": user.id,
        "username": user.username,
        "name": user.get_full_name() or user.username,
        "role": user.role,
        "supervisor": user.sees_everything,
        "admin": user.is_desk_admin,
        "teams": [{"id": t.id, "name": t.name} for t in teams],
    }


def _people(user) -> dict:
    """Who can be assigned or @mentioned: active users sharing a team, and the supervisors."""
    if not hasattr(user, "_desk_people"):  # once per request
        user._desk_people = _people_uncached(user)
    return user._desk_people


def _people_uncached(user) -> dict:
    users = User.objects.filter(is_active=True).order_by("username")
    if not user.sees_everything:
        users = users.filter(Q(teams__in=user.teams.all()) | Q(role__in=[Role.SUPERVISOR, Role.ADMIN]) | Q(pk=user.pk))
    agents = [
        {"id": u.id, "username": u.username, "name": u.get_full_name() or u.username}
        for u in users.distinct()[:MENTIONABLE_LIMIT]
    ]
    if user.sees_everything:
        teams = [{"id": t.id, "name": t.name} for t in Team.objects.all()]
    else:
        teams = _desk_user(user)["teams"]
    return {"agents": agents, "teams": teams}


def _header_context(request, conversation: Conversation) -> dict:
    data = ConversationSerializer(conversation, context={"request": request}).data
    return {
        "conversation": _with_times(dict(data), "last_activity_at", "waiting_since", "snoozed_until"),
        "statuses": Conversation.Status.choices,
        "priorities": Conversation.Priority.choices,
        "people": _people(request.user),
        "desk_user": _desk_user(request.user),
        "priority_reasons": selectors.conversation_priority_reasons(conversation=conversation),
    }


def _thread_context(request, conversation: Conversation) -> dict:
    messages = list(selectors.message_list(conversation=conversation).order_by("-sent_at", "-id")[:THREAD_LIMIT])
    messages.reverse()
    rows = MessageSerializer(messages, many=True, context={"request": request}).data
    return {
        **_header_context(request, conversation),
        "messages": [_message(m) for m in rows],
        "truncated": len(messages) == THREAD_LIMIT,
        "rules": composer_rules(conversation).as_dict(),
    }


def _customer_context(request, customer_id: int, *, current_id=None) -> dict:
    customer, _ = crm_selectors.customer_get(user=request.user, customer_id=customer_id)
    identities = list(customer.identities.order_by("kind", "id"))
    suggestions = crm_selectors.merge_suggestions_for(user=request.user, customer=customer)
    timeline, more = _timeline(request, customer.id)
    return {
        "customer": customer,
        "identities": identities,
        "suggestions": suggestions,
        "timeline": timeline,
        "timeline_more": more,
        "current_id": current_id,
    }


def _timeline(request, customer_id: int, before: tuple[datetime, int] | None = None):
    qs = selectors.customer_timeline(user=request.user, customer_id=customer_id)
    if before is not None:
        at, pk = before
        qs = qs.filter(sent_at__lte=at).filter(Q(sent_at__lt=at) | Q(sent_at=at, id__lt=pk))
    rows = list(qs[: TIMELINE_PAGE + 1])
    more = len(rows) > TIMELINE_PAGE
    rows = rows[:TIMELINE_PAGE]
    data = TimelineMessageSerializer(rows, many=True, context={"request": request}).data
    items = [_message(m) for m in data]
    last = items[-1] if items and more else None
    return items, (f"{last['sent_at']}|{last['id']}" if last else None)


# --- pages -------------------------------------------------------------------------------------


@login_required
@ensure_csrf_cookie  # static/desk/http.js sends the cookie's token with its POST/PATCH calls
@require_GET
def desk(request, conversation_id: int | None = None):
    user = request.user
    last_event_id = realtime.last_event_id()  # before reading anything: events after it are replayed
    state = _filter_state(request)
    rows, next_cursor = _conversations(request, state)
    context = {
        "desk_user": _desk_user(user),
        "role_label": user.get_role_display(),  # the header's; desk-user's "role" stays the code the desk's scripts read
        "people": _people(user),
        "boot": {"last_event_id": last_event_id, "conversation_id": conversation_id, "notification_titles": {
            "mention": gettext("You were mentioned"), "assigned": gettext("New work assigned to you"),
            "sla_warning": gettext("SLA due soon"), "sla_breached": gettext("SLA breached"),
            "channel_failing": gettext("A channel started failing"),
        }},
        "filters": state,
        "nav": _nav(user),
        "status_filters": STATUS_FILTERS,
        "sla_filters": SLA_FILTERS,
        "priorities": Conversation.Priority.choices,
        "channel_kinds": kind_choices(),
        "rows": rows,
        "next_cursor": next_cursor,
        "list_query": _query(state),
        "selected_id": conversation_id,
    }
    if conversation_id is not None:
        conversation = selectors.conversation_get(user=user, conversation_id=conversation_id, row_extras=True)
        context.update(_thread_context(request, conversation))
        context.update(_customer_context(request, conversation.customer_id, current_id=conversation.id))
    return render(request, "desk/desk.html", context)


@login_required
@require_GET
def desk_list(request):
    """The list for a filter state (first page, or the page after ?cursor=)."""
    state = _filter_state(request)
    rows, next_cursor = _conversations(request, state)
    return render(
        request, "desk/_list.html", {"rows": rows, "next_cursor": next_cursor, "filters": state, "list_query": _query(state)}
    )


@login_required
@require_GET
def desk_rows(request):
    """Rows for ?ids= that match the filter state; an id left out no longer belongs in this list."""
    ids = _ids(request)
    state = _filter_state(request)
    rows, _ = _conversations(request, state, ids=ids)
    return render(request, "desk/_rows.html", {"rows": rows, "list_query": _query(state)})


@login_required
@require_GET
def desk_counts(request):
    return render(request, "desk/_nav.html", {"nav": _nav(request.user), "filters": _filter_state(request)})


@login_required
@require_GET
def desk_conversation(request, conversation_id: int):
    """The middle and right panes for one conversation (the client swaps both in)."""
    conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id, row_extras=True)
    context = _thread_context(request, conversation)
    context.update(_customer_context(request, conversation.customer_id, current_id=conversation.id))
    return render(request, "desk/_conversation.html", context)


@login_required
@require_GET
def desk_messages(request, conversation_id: int):
    """Messages ?ids= of a visible conversation, for live inserts and delivery-status updates."""
    conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id, row_extras=True)
    ids = _ids(request)
    messages = list(selectors.message_list(conversation=conversation).filter(pk__in=ids)[: len(ids)])
    rows = MessageSerializer(messages, many=True, context={"request": request}).data
    data = ConversationSerializer(conversation, context={"request": request}).data
    return render(
        request, "desk/_messages.html", {"messages": [_message(m) for m in rows], "conversation": data}
    )


@login_required
@require_GET
def desk_header(request, conversation_id: int):
    """The conversation's header (status, assignee, tags...) after a change made elsewhere."""
    conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id, row_extras=True)
    return render(request, "desk/_header.html", _header_context(request, conversation))


@login_required
@require_GET
def desk_timeline(request, customer_id: int):
    """Older timeline items (?before=<sent_at>|<id>) of a visible customer."""
    customer, _ = crm_selectors.customer_get(user=request.user, customer_id=customer_id)
    before = None
    raw = request.GET.get("before", "")
    if raw:
        at, _, pk = raw.rpartition("|")
        parsed = datetime_parse(at.replace(" ", "+"))
        if parsed is None:
            raise BadRequest(gettext("Invalid cursor"))
        before = (parsed, _bad_request_on_error(id_parse, pk, name="before"))
    current = request.GET.get("current")
    items, more = _timeline(request, customer.id, before)
    return render(
        request,
        "desk/_timeline_items.html",
        {"timeline": items, "timeline_more": more, "customer": customer,
         "current_id": _bad_request_on_error(id_parse, current, name="current") if current else None},
    )


def _ids(request) -> list[int]:
    """?ids=1,2,3 (at most 200: a burst of live events is batched by the client)."""
    return _bad_request_on_error(id_list_parse, request.GET.get("ids", ""), name="ids", limit=200)


def _bad_request_on_error(parse, *args, **kwargs):
    """A page's 400 for what the API answers with an ApplicationError."""
    try:
        return parse(*args, **kwargs)
    except ApplicationError as exc:
        raise BadRequest(exc.message) from exc
