"""What the customer records need from the conversations above them: the contract, stated here,
connected from above.

The inbox lives above the crm (ingest resolves identities into customers; conversations and
messages point at them), yet a customer's visibility (an agent sees the customers of the
conversations they see), a merge (the source's conversations and messages move too), the
data-protection export and erasure and the retention sweep all reach the inbox's rows. So the crm
states here what it asks, and the inbox connects its answers at start (apps/inbox/apps.py, the
functions of apps/inbox/services/customers.py), the same pattern as apps/accounts/hooks.py.
Everything runs in the caller's transaction.
"""
from django.db.models import BooleanField, Value


class _Unconnected:
    """No conversations app installed: customers have no conversations, agents see none of them."""

    def customer_visible_exists(self, *, user, customer_ref: str):
        return Value(False, output_field=BooleanField())

    def customer_history_counts(self, *, customer_id: int) -> dict:
        return {"conversations": 0, "messages": 0, "attachments": 0}

    def customer_history_export(self, *, customer_id: int, archive) -> tuple[list, list, dict]:
        return [], [], {"conversations": 0, "messages": 0, "attachments": 0}

    def customers_history_redact(self, *, customer_ids: list[int]) -> dict:
        return {"conversations": 0, "messages": 0, "attachments": 0}

    def resolved_history_redact(self, *, before, batch: int) -> int:
        return 0

    def customer_history_move(self, *, source, target) -> tuple[dict, list]:
        return {"conversations": 0, "messages": 0}, []

    def customer_history_merged(self, *, moved: list, source, target, actor, merge_id: int) -> None:
        pass


_history = _Unconnected()


def history_connect(history) -> None:
    """`history` answers the questions below (apps/inbox/services/customers.py)."""
    global _history
    _history = history


def customer_visible_exists(*, user, customer_ref: str = "pk"):
    """An Exists() expression: the customer at OuterRef(customer_ref) has a conversation `user` sees."""
    return _history.customer_visible_exists(user=user, customer_ref=customer_ref)


def customer_history_counts(*, customer_id: int) -> dict:
    """{"conversations", "messages", "attachments"} held for this customer."""
    return _history.customer_history_counts(customer_id=customer_id)


def customer_history_export(*, customer_id: int, archive) -> tuple[list, list, dict]:
    """Writes the stored files into the ZipFile `archive`; returns (conversations with their
    messages, the conversations' events, counts)."""
    return _history.customer_history_export(customer_id=customer_id, archive=archive)


def customers_history_redact(*, customer_ids: list[int]) -> dict:
    """Redact every conversation of these customers; returns counts."""
    return _history.customers_history_redact(customer_ids=customer_ids)


def resolved_history_redact(*, before, batch: int) -> int:
    """Redact resolved conversations with no activity since `before` (each batch its own
    transaction); returns how many."""
    return _history.resolved_history_redact(before=before, batch=batch)


def customer_history_move(*, source, target) -> tuple[dict, list]:
    """A merge: the source's conversations (locked after both customers, in id order) and messages
    now belong to the target. Returns (counts, the moved conversations)."""
    return _history.customer_history_move(source=source, target=target)


def customer_history_merged(*, moved: list, source, target, actor, merge_id: int) -> None:
    """Once the merge is recorded: each moved conversation says so, and the desk hears it."""
    _history.customer_history_merged(moved=moved, source=source, target=target, actor=actor, merge_id=merge_id)
