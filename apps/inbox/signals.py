"""Signing out ends that browser's live sockets at once (not only at their next reconnect)."""
import logging

from channels.layers import get_channel_layer

from apps.core.realtime import broadcast_ephemeral, layer_call

from .consumers import ACCESS_CHANGED, SESSION_ENDED, session_fingerprint
from .visibility import user_group

logger = logging.getLogger(__name__)


def close_sockets_of_session(sender, request, user, **kwargs):
    fingerprint = session_fingerprint(getattr(request, "session", None))
    layer = get_channel_layer()
    if user is None or fingerprint is None or layer is None:
        return
    try:
        layer_call(broadcast_ephemeral, layer, [user_group(user.id)], {"type": SESSION_ENDED, "session": fingerprint})
    except Exception:  # the logout itself must succeed; the socket then closes at its next reconnect
        logger.exception("could not tell user %s's sockets that the session ended", user.id)


def close_sockets_of_user(*, user_id: int) -> None:
    """A user's role or teams changed, or they were deactivated: every socket of theirs closes
    (apps/accounts/hooks.py). The desk reconnects and joins the groups its new rights allow; a
    deactivated user is refused there and sent to sign in."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        layer_call(broadcast_ephemeral, layer, [user_group(user_id)], {"type": ACCESS_CHANGED, "user_id": user_id})
    except Exception:  # the change is saved; the sockets then keep their old groups until they reconnect
        logger.exception("could not tell user %s's sockets that their access changed", user_id)
