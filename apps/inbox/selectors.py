"""Reads for the inbox: every query here is filtered by the visibility rule.

Querysets come back with what their serializers need joined or prefetched, so a
page costs the same number of queries at 3 rows as at 300.
"""
import re
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models.expressions import RawSQL
from django.db.models import BooleanField, Count, Exists, F, Func, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.http import Http404
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.selectors import agents_with_presence
from apps.core.errors import ApplicationError
from apps.core.parsing import id_parse
from apps.crm.models import Customer, Identity
from apps.crm.selectors import _identity_match, customers_visible

from .channels import can_reach, composer_rules, outbound_thread_key
from .clocks import STATES as SLA_STATES
from .clocks import sla_filter_q
from .models import IN_QUEUE, Attachment, Conversation, ConversationEvent, ConversationRead, Message
from .visibility import team_ids_subquery, visible_conversations_q

LIST_RELATED = ("customer", "channel_account", "assignee", "team")
# The columns a row of the list reads (apps/inbox/api.py conversation_row, the SLA badge): the
# rest (thread key, first-response times, the whole customer and user rows) is not fetched.
ROW_FIELDS = (
    "id", "customer", "channel_account", "status", "priority", "subject", "assignee", "team", "is_public",
    "snoozed_until", "last_inbound_at", "last_activity_at", "waiting_since", "last_message_preview", "message_count",
    "sla_policy_id", "sla_clock", "sla_due_at", "sla_warn_at", "sla_paused_seconds",
    "customer__display_name", "channel_account__kind", "channel_account__name", "assignee__username", "team__name",
)
# The columns a timeline row reads (apps/inbox/api.py TimelineMessageSerializer): not the
# message's provider ids, nor the whole conversation, user and account rows.
TIMELINE_FIELDS = (
    "id", "conversation", "customer", "channel_account", "direction", "kind", "author", "subject", "text", "html",
    "is_public", "sent_at", "delivery_status", "delivery_error", "metadata",
    "author__username", "channel_account__kind", "channel_account__name", "conversation__subject", "conversation__status",
)
VIEWS = ("mine", "unassigned", "teams", "all")
# A view without ?status= lists the working queue; snoozed ones come back by themselves.
SEARCH_MAX_CHARS = 200
# Searches matching at least this many messages are "common words" (see search_q).
SEARCH_DENSE_MATCHES = 2000


@dataclass(frozen=True)
class ConversationFilters:
    """Parsed query of the list: ?view=&status=&channel=&channel_account=&assignee=&team=
    &customer=&priority=&tag=&sla=&q= (see docs/api.md, "The inbox API")."""

    statuses: tuple[str, ...] = ()
    channel_kind: str | None = None
    channel_account_id: int | None = None
    assignee: int | str | None = None  # a user id, "me" or "none"
    team: int | str | None = None  # a team id or "none"
    customer_id: int | None = None
    view: str | None = None
    priorities: tuple[int, ...] = ()
    tag: str | None = None
    sla: str | None = None
    q: str = ""

    @classmethod
    def from_query(cls, params) -> "ConversationFilters":
        view = params.get("view") or None
        if view is not None and view not in VIEWS:
            raise ApplicationError(_("Unknown view"), extra={"view": view, "allowed": list(VIEWS)})
        raw_status = params.get("status") or ""
        if raw_status == "any":
            statuses = ()
        else:
            statuses = tuple(s for s in raw_status.split(",") if s)
            unknown = set(statuses) - set(Conversation.Status.values)
            if unknown:
                raise ApplicationError(_("Unknown status"), extra={"status": sorted(unknown), "allowed": Conversation.Status.values})
            if not statuses and view is not None:
                statuses = IN_QUEUE
        sla = params.get("sla") or None
        if sla is not None and sla not in SLA_STATES:
            raise ApplicationError(_("Unknown SLA state"), extra={"sla": sla, "allowed": list(SLA_STATES)})
        return cls(
            statuses=statuses,
            channel_kind=params.get("channel") or None,
            channel_account_id=_int_param(params, "channel_account"),
            assignee=_int_or_word(params, "assignee", ("me", "none")),
            team=_int_or_word(params, "team", ("none",)),
            customer_id=_int_param(params, "customer"),
            view=view,
            priorities=_priorities(params.get("priority") or ""),
            tag=(params.get("tag") or "").strip().lower() or None,
            sla=sla,
            q=(params.get("q") or "").strip()[:SEARCH_MAX_CHARS],
        )


def _priorities(raw: str) -> tuple[int, ...]:
    try:
        values = tuple(int(p) for p in raw.split(",") if p)
    except ValueError:
        raise ApplicationError(_("Priority must be integers 0-3"), extra={"priority": raw}) from None
    if set(values) - set(Conversation.Priority.values):
        raise ApplicationError(_("Unknown priority"), extra={"priority": raw, "allowed": Conversation.Priority.values})
    return values


def _int_param(params, name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    return id_parse(raw, name=name)


def _int_or_word(params, name: str, words: tuple[str, ...]):
    raw = params.get(name)
    if raw in words:
        return raw
    return _int_param(params, name)


def conversations_visible(*, user) -> QuerySet[Conversation]:
    return Conversation.objects.filter(visible_conversations_q(user))


def conversation_list(*, user, filters: ConversationFilters = ConversationFilters()) -> QuerySet[Conversation]:
    """The inbox: visible conversations, newest activity first (the paginator orders by -last_activity_at, -id).

    Two queries a page whatever its size: the rows (customer, channel, assignee and team
    joined; the user's read marker as a subquery) and their tags.
    """
    qs = conversations_visible(user=user).select_related(*LIST_RELATED).only(*ROW_FIELDS)
    if filters.view == "mine":
        qs = qs.filter(assignee_id=user.id)
    elif filters.view == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    elif filters.view == "teams":
        # The user's teams as values (read once per request): a user of no team gets an empty page
        # at once, where the subquery walked the whole inbox (250k rows: 70-200 ms) to find nothing.
        qs = qs.filter(team_id__in=user.team_ids) if user.team_ids else qs.none()
    if filters.statuses:
        qs = qs.filter(status__in=filters.statuses)
    if filters.channel_kind:
        qs = qs.filter(channel_account__kind=filters.channel_kind)
    if filters.channel_account_id is not None:
        qs = qs.filter(channel_account_id=filters.channel_account_id)
    if filters.assignee == "me":
        qs = qs.filter(assignee_id=user.id)
    elif filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee is not None:
        qs = qs.filter(assignee_id=filters.assignee)
    if filters.team == "none":
        qs = qs.filter(team__isnull=True)
    elif filters.team is not None:
        qs = qs.filter(team_id=filters.team)
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.priorities:
        qs = qs.filter(priority__in=filters.priorities)
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    if filters.sla:
        qs = qs.filter(sla_filter_q(filters.sla))
    if filters.q:
        qs = qs.filter(search_q(filters.q))
    return with_row_extras(qs, user=user).order_by("-last_activity_at", "-id")


def with_row_extras(qs: QuerySet[Conversation], *, user) -> QuerySet[Conversation]:
    """What a row shows beyond its columns: the user's read marker. (Its tags: one query for the
    page when it is serialized, events.tags_of: names only, no Tag objects.)"""
    read_at = ConversationRead.objects.filter(user_id=user.id, conversation_id=OuterRef("pk")).values("last_read_at")[:1]
    return qs.annotate(my_read_at=Subquery(read_at))


# --- search ------------------------------------------------------------------------------


MESSAGE_TEXT_INDEX = "inbox_message_text_fts"  # GIN on to_tsvector('simple', text), migration 0006


class _SimpleTsVector(Func):
    # The exact expression of the MESSAGE_TEXT_INDEX index.
    function = "to_tsvector"
    template = "%(function)s('simple'::regconfig, %(expressions)s)"


class _SimpleTsVectorUnindexed(_SimpleTsVector):
    # Not the index's expression (on purpose): for a conversation's few messages a plain check
    # beats ANDing with the whole GIN posting list of a common word on every row.
    template = "%(function)s('simple'::regconfig, %(expressions)s || '')"


class _SimpleTsQuery(Func):
    function = "to_tsquery"
    template = "%(function)s('simple'::regconfig, %(expressions)s)"


def _tsquery_words(q: str) -> list[str]:
    return re.findall(r"\w+", q.lower())[:8]


def _tsquery(q: str) -> str | None:
    """Every word, as a prefix (people search while typing): 'pedid lleg' -> 'pedid:* & lleg:*'."""
    return " & ".join(f"{w}:*" for w in _tsquery_words(q)) or None


def messages_matching(q: str, *, indexed: bool = True) -> QuerySet[Message]:
    """Messages whose text matches q: full text on PostgreSQL (GIN), LIKE on SQLite."""
    if connection.vendor != "postgresql":  # embedded: every word somewhere in the text
        words = re.findall(r"\w+", q)[:8] or [q]
        qs = Message.objects.all()
        for word in words:
            qs = qs.filter(text__icontains=word)
        return qs
    tsquery = _tsquery(q)
    if tsquery is None:
        return Message.objects.none()
    vector = _SimpleTsVector(F("text")) if indexed else _SimpleTsVectorUnindexed(F("text"))
    match = Func(vector, _SimpleTsQuery(Value(tsquery)), arg_joiner=" @@ ", template="%(expressions)s",
                 output_field=BooleanField())
    return Message.objects.filter(match)


def search_q(q: str) -> Q:
    """Conversations with a message matching q, or of a customer matching q (name or identity)."""
    messages = messages_matching(q).order_by().values("conversation_id")
    # Names: icontains compares UPPER(display_name), which the crm trigram GIN index covers.
    names = Customer.objects.filter(display_name__icontains=q).order_by().values("id")
    identities = Identity.objects.filter(_identity_match(q)).order_by().values("customer_id")
    if connection.vendor != "postgresql":
        return Q(pk__in=messages) | Q(customer_id__in=names) | Q(customer_id__in=identities)
    (names_sql, names_params), (ids_sql, ids_params) = _sql(names), _sql(identities)
    customers_sql, customers_params = f"{names_sql} UNION {ids_sql}", [*names_params, *ids_params]
    if _tsquery(q) is None:
        # No word to look for ("?", "..."): no message can match (and an empty queryset has no
        # SQL to embed), but a name or identity holding those characters still may.
        return Q(customer_id__in=RawSQL(customers_sql, customers_params))
    if not _common_by_statistics(_tsquery_words(q)):
        # Rare by the statistics: fetch the matches' conversations (at most SEARCH_DENSE_MATCHES
        # messages) and look them up by primary key. Left inside the query, a prefix match is
        # estimated at a flat 2% of all messages, and the planner hashed the whole inbox for 18 matches.
        found = list(messages_matching(q).order_by().values_list("conversation_id", flat=True)[:SEARCH_DENSE_MATCHES])
        if len(found) < SEARCH_DENSE_MATCHES:
            # One IN over a UNION, not ORed INs, so PostgreSQL makes it a semi-join driven by the
            # few matches; ORed subqueries would be checked on every row of the inbox's index walk.
            sql = (
                f"SELECT unnest(%s::bigint[]) UNION SELECT c.id FROM {Conversation._meta.db_table} c "
                f"WHERE c.customer_id IN ({customers_sql})"
            )
            return Q(pk__in=RawSQL(sql, [sorted(set(found)), *customers_params]))
    # A common word: most conversations have such a message, so walking the inbox in its order
    # and checking each conversation's few messages (thread index) finds a page at once, where
    # gathering every match (tens of thousands) first would not.
    # (Bounds, not `=`: PostgreSQL would turn an equality into one hashed pass over every match,
    # which is exactly the cost avoided here.)
    has_message = Exists(
        messages_matching(q, indexed=False).filter(conversation_id__gte=OuterRef("pk"), conversation_id__lte=OuterRef("pk"))
    )
    return Q(has_message) | Q(customer_id__in=RawSQL(customers_sql, customers_params))


def _common_by_statistics(words: list[str]) -> bool:
    """Whether messages holding every word (as a prefix) number SEARCH_DENSE_MATCHES or more, by
    PostgreSQL's own statistics of the full-text index (ANALYZE keeps its most common words and
    the share of messages holding each): one catalog read, where counting the matches of a
    common word (its whole GIN posting list) took 25-50 ms. A word too rare to be kept there is
    rare; one that became common since the last ANALYZE is caught by the fetch that follows (as
    is every word when there are no statistics to read: that fetch then costs what the count did)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT reltuples FROM pg_class WHERE oid = %s::regclass), w, coalesce(sum(e.freq), 0) "
            "FROM unnest(%s::text[]) w LEFT JOIN ("
            "  SELECT elem, freq FROM pg_stats s,"
            "         unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(elem, freq)"
            "  WHERE s.schemaname = current_schema() AND s.tablename = %s"
            ") e ON starts_with(e.elem, w) GROUP BY w",
            [Message._meta.db_table, words, MESSAGE_TEXT_INDEX],
        )
        rows = cursor.fetchall()
    expected = max((rows[0][0] or 0), 0) if rows else 0
    for _, _, share in rows:
        expected *= min(share, 1)  # words taken as independent
    return expected >= SEARCH_DENSE_MATCHES


def _sql(qs: QuerySet) -> tuple[str, tuple]:
    return qs.query.sql_with_params()


def conversation_get(*, user, conversation_id: int, row_extras: bool = False) -> Conversation:
    """A visible conversation or 404: an agent cannot tell an invisible one from a missing one.
    row_extras: with tags and the user's read marker, as the list serves it."""
    qs = conversations_visible(user=user).select_related(*LIST_RELATED)
    if row_extras:
        qs = with_row_extras(qs, user=user)
    conversation = qs.filter(pk=conversation_id).first()
    if conversation is None:
        raise Http404("No such conversation")
    return conversation


def _with_message_details(qs: QuerySet[Message]) -> QuerySet[Message]:
    # Attachments: attachments_of, one query for a page when it is serialized.
    return qs.select_related("author", "channel_account")


def attachments_of(messages: list[Message]) -> dict[int, list[Attachment]]:
    """message id -> its attachments, oldest first: prefetched ones (a reply just written) as they
    are, the others in one query for the lot. Django's prefetch built a queryset per message."""
    result, missing = {}, []
    for message in messages:
        cached = getattr(message, "_prefetched_objects_cache", {}).get("attachments")
        if cached is None:
            missing.append(message.id)
        else:
            result[message.id] = list(cached)
    if missing:
        found = defaultdict(list)
        for attachment in Attachment.objects.filter(message_id__in=missing).order_by("id"):
            found[attachment.message_id].append(attachment)
        result.update({i: found[i] for i in missing})
    return result


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    """The thread, oldest first (the paginator orders by sent_at, id)."""
    return _with_message_details(Message.objects.filter(conversation=conversation)).order_by("sent_at", "id")


def message_get(*, user, message_id: int) -> Message:
    """A message of a visible conversation, with its attachments (events publish them), or 404."""
    qs = Message.objects.filter(visible_conversations_q(user, prefix="conversation__"), pk=message_id)
    message = _with_message_details(qs.select_related("conversation")).prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    ).first()
    if message is None:
        raise Http404("No such message")
    return message


def attachment_get(*, user, attachment_id: int) -> Attachment:
    qs = Attachment.objects.filter(visible_conversations_q(user, prefix="message__conversation__"), pk=attachment_id)
    attachment = qs.first()
    if attachment is None:
        raise Http404("No such attachment")
    return attachment


def customer_timeline(*, user, customer_id: int) -> QuerySet[Message]:
    """Every message of a customer on every channel the user may see (paginated newest first)."""
    qs = Message.objects.filter(customer_id=customer_id)
    if not user.sees_everything:
        qs = qs.filter(visible_conversations_q(user, prefix="conversation__"))
    # The conversation rides along: the timeline labels (groups) messages by conversation.
    return _with_message_details(qs).select_related("conversation").only(*TIMELINE_FIELDS).order_by("-sent_at", "-id")



# --- starting a conversation -------------------------------------------------------------------

# The inbox reads channel accounts through its own foreign key (it does not import the connectors).
ChannelAccount = Conversation._meta.get_field("channel_account").related_model


def outbound_accounts(*, user) -> QuerySet:
    """The enabled channel accounts `user` may write from: all for supervisors and admins; an
    agent's own teams' accounts and those of no team."""
    accounts = ChannelAccount.objects.filter(enabled=True).order_by("kind", "name")
    if user.sees_everything:
        return accounts
    return accounts.filter(Q(team_id__in=team_ids_subquery(user)) | Q(team__isnull=True))


def outbound_options(*, user, customer_id: int) -> list[dict]:
    """For each of the customer's identities, the accounts that can write to it (the channel says,
    apps/inbox/channels.py). Two queries whatever the counts."""
    customer = customers_visible(user=user).filter(pk=customer_id).first()
    if customer is None:
        raise Http404("No such customer")
    accounts = list(outbound_accounts(user=user))
    options = []
    for identity in customer.identities.order_by("kind", "id"):
        # The identity's own channel first (an address by email, then e.g. the API channel): the desk picks the first.
        reaching = sorted((a for a in accounts if can_reach(account=a, identity=identity)), key=lambda a: a.kind != identity.kind)
        for account in reaching:
            _start_rules(account, identity)
        options.append({"identity": identity, "accounts": reaching})
    return options


def _start_rules(account, identity) -> None:
    """What the composer would allow on the conversation a start would write into (the existing
    thread with that person, or a new one): set on `account` as can_send, notice, max_chars and
    conversation_id, for the desk to show the rule before the agent writes (Messenger's windows).
    One query per (identity, account) pair that reaches: a customer has a handful."""
    key = outbound_thread_key(account=account, identity=identity)
    existing = Conversation.objects.filter(channel_account=account, thread_key=key).select_related("channel_account").first() if key else None
    rules = composer_rules(existing or Conversation(channel_account=account, thread_key=key or None, is_public=False))
    account.can_send, account.notice, account.max_chars = rules.can_reply, str(rules.notice), rules.max_chars
    account.conversation_id = existing.id if existing else None


def outbound_parts(*, user, customer_id: int, identity_id: int, account_id: int):
    """(customer, identity, account) for conversation_start, each checked against what `user` may use."""
    customer = customers_visible(user=user).filter(pk=customer_id).first()
    if customer is None:
        raise Http404("No such customer")
    identity = customer.identities.filter(pk=identity_id).first()
    if identity is None:
        raise ApplicationError(_("Pick one of the customer's addresses or accounts"))
    account = outbound_accounts(user=user).filter(pk=account_id).first()
    if account is None:
        raise ApplicationError(_("You cannot write from that channel account"))
    return customer, identity, account
def priority_reasons_text(data: dict) -> str:
    """A priority event's reasons as the desk shows them: "High: public complaint; anger words: 'vergüenza', 'estafa'"."""
    from django.utils.translation import gettext

    reasons = data.get("reasons") or []
    if not reasons or data.get("to") not in Conversation.Priority.values:
        return ""
    parts = []
    for reason in reasons:
        words = reason.get("words") or []
        name = str(reason.get("name") or gettext("rule"))
        parts.append(f"{name}: " + ", ".join(f"'{w}'" for w in words) if words else name)
    return f"{Conversation.Priority(data['to']).label}: " + "; ".join(parts)


def conversation_priority_reasons(*, conversation: Conversation) -> str:
    """Why the conversation has its priority, from the latest priority event the rules wrote (one
    indexed query); "" when a person set it since, or no rule ever fired."""
    data = (
        ConversationEvent.objects.filter(conversation_id=conversation.pk, kind=ConversationEvent.Kind.PRIORITY)
        .order_by("-created_at", "-id").values_list("data", flat=True).first()
    )
    if not data or data.get("by") != "rules" or data.get("to") != conversation.priority:
        return ""
    return priority_reasons_text(data)


def agents_with_load() -> list:
    """Active users with presence and teams (apps/accounts/selectors.py) and .open_assigned: the
    conversations still in a queue assigned to them. Two queries and one Redis round trip."""
    return agents_with_presence(
        User.objects.annotate(open_assigned=Count("assigned_conversations", filter=Q(assigned_conversations__status__in=IN_QUEUE)))
    )
