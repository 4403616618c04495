"""Writes for customers: merging two records of one person, dismissing suggestions, naming them."""
import re

from django.db import transaction
from django.utils.translation import gettext as _
from django.db.models import Q

from apps.core.errors import ApplicationError

from .hooks import customer_history_merged, customer_history_move
from .models import Customer, CustomerMerge, Identity, MergeSuggestion


MAX_CUSTOMER_TAGS = 20
CUSTOMER_TAG = re.compile(r"^[\w][\w .:/&+-]{0,49}$")


def customer_tags_set(*, customer: Customer, tags: list[str]) -> Customer:
    """Replace the customer's tags (lowercase names, e.g. "vip": priority rules and SLA policies read them)."""
    if not isinstance(tags, (list, tuple)):
        raise ApplicationError("tags must be a list of names")
    names = []
    for raw in tags:
        name = str(raw).strip().lower()
        if not CUSTOMER_TAG.match(name):
            raise ApplicationError("Bad tag name (letters, digits, spaces and .:/&+- ; at most 50)", extra={"tag": name})
        if name not in names:
            names.append(name)
    if len(names) > MAX_CUSTOMER_TAGS:
        raise ApplicationError(f"At most {MAX_CUSTOMER_TAGS} tags", extra={"max": MAX_CUSTOMER_TAGS})
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        locked.tags = sorted(names)
        locked.save(update_fields=["tags", "updated_at"])
    return locked


def customer_name_fill(*, customer_id: int, kind: str, value: str, name: str) -> None:
    """The name a provider gives for a customer known only by an identity's value (the name ingest
    falls back to, e.g. a Messenger PSID): the customer and that identity take it. A name an agent
    typed or a merge chose is kept, and so is an identity's own name."""
    name = name[:200]
    Customer.objects.filter(pk=customer_id, display_name=value).update(display_name=name)
    Identity.objects.filter(kind=kind, value=value, display_name="").update(display_name=name)


def customer_merge(*, target: Customer, source: Customer, actor) -> CustomerMerge:
    """Fold `source` into `target`: identities, conversations and messages move; source stays a tombstone.

    Lock order: both customers in id order, FOR UPDATE: it waits for ingest batches whose rows
    point at them (their foreign-key checks hold FOR KEY SHARE) and then moves those rows too;
    a batch that read an identity's owner just before this commits redoes itself once it sees
    the merge (ingest's _check_no_merge_meanwhile), so a message never lands on the tombstone. Then the source's conversations in id order —
    the same order ingest uses for conversations.
    """
    if target.pk == source.pk:
        raise ApplicationError(_("A customer cannot be merged into itself"))
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update().filter(pk__in=[target.pk, source.pk]).order_by("pk")
        }
        if len(locked) != 2:
            raise ApplicationError(_("Customer not found"), status_code=404)
        target, source = locked[target.pk], locked[source.pk]
        for customer in (target, source):
            if customer.merged_into_id:
                raise ApplicationError(
                    _("This customer was already merged"), extra={"customer": customer.pk, "merged_into": customer.merged_into_id}
                )
        # The conversations and messages are the inbox's (apps/crm/hooks.py): it locks and moves them.
        history, conversations = customer_history_move(source=source, target=target)
        moved = {
            "identities": Identity.objects.filter(customer=source).update(customer=target),
            **history,
            "merge_suggestions": _resolve_suggestions(target=target, source=source),
        }
        source.merged_into = target
        source.save(update_fields=["merged_into", "updated_at"])
        # Older tombstones of the source follow it, so every merged id is one hop from its survivor.
        Customer.objects.filter(merged_into=source).update(merged_into=target)
        if not target.display_name and source.display_name:
            target.display_name = source.display_name
            target.save(update_fields=["display_name", "updated_at"])
        if set(source.tags or []) - set(target.tags or []):  # a VIP stays a VIP after a merge
            target.tags = sorted(set(target.tags or []) | set(source.tags or []))[:MAX_CUSTOMER_TAGS]
            target.save(update_fields=["tags", "updated_at"])
        merge = CustomerMerge.objects.create(
            target=target, source=source, source_display_name=source.display_name, merged_by=actor, moved=moved
        )
        customer_history_merged(moved=conversations, source=source, target=target, actor=actor, merge_id=merge.pk)
    return merge


def _resolve_suggestions(*, target: Customer, source: Customer) -> int:
    """The pair's suggestions are done; the source's others now concern the target."""
    open_ = MergeSuggestion.objects.filter(status=MergeSuggestion.Status.OPEN)
    count = open_.filter(
        Q(customer=source, other=target) | Q(customer=target, other=source)
    ).update(status=MergeSuggestion.Status.MERGED)
    for suggestion in open_.filter(Q(customer=source) | Q(other=source)).order_by("pk"):
        third = suggestion.other_id if suggestion.customer_id == source.pk else suggestion.customer_id
        duplicate = open_.filter(
            Q(customer=target, other_id=third) | Q(customer_id=third, other=target)
        ).exists()
        if duplicate:  # the target already has an open suggestion with that customer
            suggestion.status = MergeSuggestion.Status.MERGED
            suggestion.save(update_fields=["status"])
        else:
            suggestion.customer_id, suggestion.other_id = target.pk, third
            suggestion.save(update_fields=["customer", "other"])
        count += 1
    return count


def merge_suggestion_dismiss(*, suggestion: MergeSuggestion, actor) -> MergeSuggestion:
    """Two different people after all: the suggestion closes (ingest may raise a new one later)."""
    with transaction.atomic():
        locked = MergeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if locked.status != MergeSuggestion.Status.OPEN:
            raise ApplicationError(_("This suggestion is no longer open"), extra={"status": locked.status}, status_code=409)
        locked.status = MergeSuggestion.Status.DISMISSED
        locked.save(update_fields=["status"])
    return locked
