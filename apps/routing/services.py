"""Priority rules: which priority a new conversation starts with, why, and which public comments
go to moderation. The rules are PriorityRule rows (ordered, edited by supervisors); reading the
text is apps/routing/rules.py.

Ingest asks once per batch: `priority_judge()` loads the enabled rules (one query), `prepare()`
loads what the rules of this batch need about its customers (tags, the channels each wrote on in
the last day: one query each, and only when a rule asks), then `judge()` is pure per message.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from apps.audit.services import audit_record
from apps.core.errors import ApplicationError
from apps.crm.models import Customer
from apps.inbox.models import Conversation
from apps.inbox.queue import Verdict

from .defaults import DEFAULT_RULES
from .models import PriorityRule
from .rules import KeywordMatcher, keywords_parse, text_for_rules

DEFAULT_PRIORITY = 1  # Conversation.Priority.NORMAL
REPEATED_CONTACT_WINDOW = timedelta(hours=24)
REPEATED_CONTACT_CHANNELS = 2


@dataclass
class _Compiled:
    rule: PriorityRule
    matcher: KeywordMatcher


class PriorityJudge:
    def __init__(self, rules: list[PriorityRule]):
        self.rules = []
        for rule in rules:
            try:
                words = keywords_parse(rule.keywords)
            except ValueError:  # saved before validation existed: the rule's valid words still count
                words = [w for w in (rule.keywords or "").splitlines() if w.strip()][:50]
            self.rules.append(_Compiled(rule, KeywordMatcher(words)))
        self.needs_tags = any(c.rule.customer_tag for c in self.rules)
        self.needs_contacts = any(c.rule.repeated_contact for c in self.rules)
        self.moderates = any(c.rule.moderation for c in self.rules)
        self._tags: dict[int, set[str]] = {}
        self._contacts: dict[int, list[tuple[str, datetime | None]]] = defaultdict(list)
        self._memo: dict[tuple, Verdict] = {}  # one judge per ingest batch: bounded by the batch

    def prepare(self, *, contacts: list[tuple[int, str, datetime]]) -> None:
        """contacts: (customer id, channel kind, sent at) of the batch's inbound messages. Loads the
        customers' tags and the channels they wrote on within a day, when some rule reads them."""
        customer_ids = {c for c, _, _ in contacts if c}
        if not customer_ids or not self.rules:
            return
        if self.needs_tags:
            self._tags = {
                pk: {str(t).lower() for t in (tags or [])}
                for pk, tags in Customer.objects.filter(pk__in=customer_ids).values_list("id", "tags")
            }
        if self.needs_contacts:
            since = min(at for _, _, at in contacts) - REPEATED_CONTACT_WINDOW
            rows = (
                Conversation.objects.filter(customer_id__in=customer_ids, last_inbound_at__gte=since)
                .values_list("customer_id", "channel_account__kind", "last_inbound_at")
            )
            for customer_id, kind, at in rows:
                self._contacts[customer_id].append((kind, at))
            for customer_id, kind, at in contacts:
                self._contacts[customer_id].append((kind, at))

    def _repeated(self, customer_id: int | None, channel_kind: str, at: datetime | None) -> bool:
        kinds = {channel_kind}
        for kind, seen in self._contacts.get(customer_id, ()):
            if at is None or seen is None or abs(at - seen) <= REPEATED_CONTACT_WINDOW:
                kinds.add(kind)
        return len(kinds) >= REPEATED_CONTACT_CHANNELS

    def judge(self, *, channel_kind: str, is_public: bool, text: str, customer_id: int | None = None,
              at: datetime | None = None) -> Verdict:
        # Ingest asks twice about a public message that opens a conversation (priority, moderation).
        key = (channel_kind, is_public, text, customer_id, at)
        if key not in self._memo:
            self._memo[key] = self._judge(channel_kind=channel_kind, is_public=is_public, text=text,
                                          customer_id=customer_id, at=at)
        return self._memo[key]

    def _judge(self, *, channel_kind, is_public, text, customer_id, at) -> Verdict:
        verdict = Verdict()
        folded = None
        for compiled in self.rules:
            rule = compiled.rule
            if rule.channel_kind and rule.channel_kind != channel_kind:
                continue
            if rule.is_public is not None and rule.is_public != is_public:
                continue
            if rule.customer_tag and rule.customer_tag.lower() not in self._tags.get(customer_id, ()):
                continue
            if rule.repeated_contact and not self._repeated(customer_id, channel_kind, at):
                continue
            words = []
            if compiled.matcher.words:
                folded = text_for_rules(text) if folded is None else folded
                words = compiled.matcher.found(folded)
                if not words:
                    continue
            reason = {"rule": rule.id, "name": rule.name or str(rule), "priority": rule.priority}
            if words:
                reason["words"] = words
            if rule.moderation:
                reason["moderation"] = rule.moderation
            verdict.reasons.append(reason)
            if rule.priority is not None and (verdict.priority is None or rule.priority > verdict.priority):
                verdict.priority = rule.priority
            if rule.moderation == PriorityRule.Moderation.HIDE or (rule.moderation and not verdict.moderation):
                verdict.moderation = rule.moderation
            if rule.stop:
                break
        return verdict


def priority_judge() -> PriorityJudge:
    """The enabled rules, in order (one query)."""
    return PriorityJudge(list(PriorityRule.objects.filter(enabled=True)))


def priority_resolver():
    """The rules without the message: priority_of(channel_kind, is_public) (kept for callers that have no text)."""
    judge = priority_judge()

    def priority_of(*, channel_kind: str, is_public: bool) -> int:
        verdict = judge.judge(channel_kind=channel_kind, is_public=is_public, text="")
        return DEFAULT_PRIORITY if verdict.priority is None else verdict.priority

    return priority_of


# --- editing the rules (the page under the desk and the API share these) ---------------------------

RULE_FIELDS = ("position", "name", "channel_kind", "is_public", "keywords", "customer_tag", "repeated_contact",
               "priority", "moderation", "stop", "enabled")


def _rule_clean(values: dict) -> dict:
    values = {k: v for k, v in values.items() if k in RULE_FIELDS}
    if "keywords" in values:
        try:
            values["keywords"] = "\n".join(keywords_parse(values["keywords"] or ""))
        except ValueError as exc:
            raise ApplicationError(str(exc), extra={"field": "keywords"}) from exc
    if "customer_tag" in values:
        values["customer_tag"] = (values["customer_tag"] or "").strip().lower()
    return values


def _plain(values: dict) -> dict:
    return {k: v if v is None or isinstance(v, (bool, int, float, str, list)) else str(v) for k, v in values.items()}


def priority_rule_create(*, values: dict, actor=None) -> PriorityRule:
    values = _rule_clean(values)
    rule = PriorityRule(**values)
    _rule_check(rule)
    with transaction.atomic():
        rule.save()
        audit_record(actor=actor, action="routing.rule_created", target=rule, after=_plain(values))
    return rule


def priority_rule_update(*, rule: PriorityRule, values: dict, actor=None) -> PriorityRule:
    with transaction.atomic():
        locked = PriorityRule.objects.select_for_update().get(pk=rule.pk)
        values = _rule_clean(values)
        before = {name: getattr(locked, name) for name in values}
        for name, value in values.items():
            setattr(locked, name, value)
        _rule_check(locked)
        locked.save()
        changed = [k for k in values if before[k] != values[k]]
        if changed:
            audit_record(actor=actor, action="routing.rule_changed", target=locked,
                         before=_plain({k: before[k] for k in changed}), after=_plain({k: values[k] for k in changed}))
    return locked


def priority_rule_delete(*, rule: PriorityRule, actor=None) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action="routing.rule_deleted", target=rule, before={"name": rule.name})
        PriorityRule.objects.filter(pk=rule.pk).delete()


def _rule_check(rule: PriorityRule) -> None:
    if rule.priority is None and not rule.moderation:
        raise ApplicationError("A rule sets a priority, a moderation, or both", extra={"field": "priority"})
    if rule.moderation and rule.is_public is False:
        raise ApplicationError("Moderation applies to public comments only", extra={"field": "moderation"})


def priority_rules_seed() -> int:
    """Add the default rules (apps/routing/defaults.py) that are missing, by name. Returns how many."""
    have = set(PriorityRule.objects.values_list("name", flat=True))
    added = 0
    for position, name, conditions, priority, moderation in DEFAULT_RULES:
        if name not in have:
            priority_rule_create(values={"position": position, "name": name, "priority": priority,
                                         "moderation": moderation, **conditions})
            added += 1
    return added
