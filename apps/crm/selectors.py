"""Reads for customers. A customer is visible to an agent when at least one of their
conversations is (apps/inbox/visibility.py, asked through apps/crm/hooks.py); supervisors and admins see everyone.
Merged customers (tombstones) never show in lists; their id resolves to the survivor.
"""
import re

from django.db.models import Exists, Q, QuerySet, Subquery
from django.http import Http404


from .hooks import customer_visible_exists
from .identities import InvalidIdentity, normalize_email, normalize_phone
from .models import Customer, Identity, IdentityKind, MergeSuggestion

# Kinds whose value is a provider id stored as given (no normalization to apply).
_RAW_VALUE_KINDS = [IdentityKind.TWITTER, IdentityKind.FACEBOOK, IdentityKind.WEB, IdentityKind.EXTERNAL]
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]{6,}")


def _visible_exists(user, customer_ref: str = "pk") -> Exists:
    return customer_visible_exists(user=user, customer_ref=customer_ref)


def customers_visible(*, user) -> QuerySet[Customer]:
    qs = Customer.objects.filter(merged_into__isnull=True)
    if user.sees_everything:
        return qs
    return qs.filter(_visible_exists(user))


def customer_search(*, user, q: str = "") -> QuerySet[Customer]:
    """By name (contains, case-insensitive) or by any identity: exact email, phone (E.164), handle or provider id."""
    qs = customers_visible(user=user)
    q = q.strip()
    if not q:
        return qs
    # Resolve identities first: a short list of ids ORs well with the name's trigram index.
    ids = list(Identity.objects.filter(_identity_match(q)).values_list("customer_id", flat=True)[:200])
    return qs.filter(Q(display_name__icontains=q) | Q(pk__in=ids))


def _identity_match(q: str) -> Q:
    bare = q.lstrip("@")
    match = Q(kind__in=_RAW_VALUE_KINDS, value=q) | Q(handle__iexact=q)
    if bare and bare != q:
        match |= Q(handle__iexact=bare) | Q(kind__in=_RAW_VALUE_KINDS, value=bare)
    elif bare:
        match |= Q(handle__iexact="@" + bare)
    if "@" in q[1:]:
        try:
            match |= Q(kind=IdentityKind.EMAIL, value=normalize_email(q))
        except InvalidIdentity:
            pass
    if _PHONE_LIKE.fullmatch(q):
        try:
            match |= Q(kind=IdentityKind.PHONE, value=normalize_phone(q))
        except InvalidIdentity:
            pass
    return match


def customer_get(*, user, customer_id: int) -> tuple[Customer, bool]:
    """(customer, was_merged). A merged id resolves to its survivor (merges keep chains one hop long).

    Raises 404 when the customer does not exist or the user may not see the survivor.
    """
    # One query: the customer itself, or the survivor a tombstone with this id was merged into.
    merged_into = Customer.objects.filter(pk=customer_id).values("merged_into_id")
    customer = customers_visible(user=user).filter(Q(pk=customer_id) | Q(pk=Subquery(merged_into))).first()
    if customer is None:
        raise Http404("No such customer")
    return customer, customer.pk != customer_id


def merge_suggestions_for(*, user, customer: Customer) -> list[MergeSuggestion]:
    """Open suggestions naming this customer, each with `other` set to the other side."""
    qs = MergeSuggestion.objects.filter(
        Q(customer=customer) | Q(other=customer), status=MergeSuggestion.Status.OPEN
    ).select_related("customer", "other")
    if not user.sees_everything:
        qs = qs.filter(_visible_exists(user, "customer_id"), _visible_exists(user, "other_id"))
    suggestions = list(qs.order_by("-created_at", "-id")[:50])
    for s in suggestions:
        s.counterpart = s.other if s.customer_id == customer.id else s.customer
    return suggestions


def merge_suggestion_list(*, user, status: str | None = MergeSuggestion.Status.OPEN) -> QuerySet[MergeSuggestion]:
    """Suggestions whose two customers the user can both see (only they can act on it)."""
    qs = MergeSuggestion.objects.select_related("customer", "other")
    if status:
        qs = qs.filter(status=status)
    if not user.sees_everything:
        qs = qs.filter(_visible_exists(user, "customer_id"), _visible_exists(user, "other_id"))
    return qs.order_by("-created_at", "-id")


def merge_suggestion_get(*, user, suggestion_id: int) -> MergeSuggestion:
    suggestion = merge_suggestion_list(user=user, status=None).filter(pk=suggestion_id).first()
    if suggestion is None:
        raise Http404("No such merge suggestion")
    return suggestion
