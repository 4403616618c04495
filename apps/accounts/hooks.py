"""What other apps do when a user leaves: the contract, stated here, connected from above.

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
