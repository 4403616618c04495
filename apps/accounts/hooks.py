"""What other apps do when a user leaves or an admin changes people: the contract, stated here,
connected from above.

The inbox lives above accounts (it imports accounts, never the other way), yet a deactivated
agent's open work must go back to the queue through the inbox's own service. So accounts states
the hook and the inbox connects its service at start (apps/inbox/apps.py), the same pattern as
apps/inbox/channels.py. Hooks run inside the deactivation's transaction: all or nothing.
"""
from collections.abc import Callable

# (user, actor) -> a summary dict recorded in the audit entry, e.g. {"released_conversations": [ids]}
_on_deactivate: list[Callable] = []


def on_user_deactivated(hook: Callable) -> None:
    if hook not in _on_deactivate:
        _on_deactivate.append(hook)


def run_user_deactivated(*, user, actor) -> dict:
    summary = {}
    for hook in _on_deactivate:
        summary.update(hook(user=user, actor=actor) or {})
    return summary


# user_id -> None: their access changed (role, teams, deactivated). The inbox closes their open
# sockets, which reconnect with the new rights (or, deactivated, are refused and sign out).
_on_access_changed: list[Callable] = []


def on_user_access_changed(hook: Callable) -> None:
    if hook not in _on_access_changed:
        _on_access_changed.append(hook)


def run_user_access_changed(*, user_id: int) -> None:
    """After commit: a socket that reconnects at once must find the new rights saved."""
    from django.db import transaction

    for hook in _on_access_changed:
        transaction.on_commit(lambda hook=hook: hook(user_id=user_id))


# Every change to people and teams is recorded in the audit log. The audit app lives above accounts
# (its entries point at users, its pages use accounts' permissions), so accounts states the hook and
# apps/audit/apps.py connects its one writer, audit_record, at start. Called in the change's
# transaction: a change that rolls back leaves no entry.
_recorders: list[Callable] = []


def on_audit(recorder: Callable) -> None:
    if recorder not in _recorders:
        _recorders.append(recorder)


def audit_record(**entry) -> None:
    """audit_record(actor=..., action=..., target=..., before=..., after=..., ip=...) for each recorder."""
    for recorder in _recorders:
        recorder(**entry)
