"""Hiding a customer's comment on the Page: POST /<comment-id> is_hidden=true (the channel's `moderate`).

Only the Graph call and its errors: the desk's record of it (metadata, audit, live event) is the
inbox's message_visibility_set, which calls this through the channel contract.
"""
from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError
from apps.inbox.channels import PermanentSendError, TemporarySendError
from apps.inbox.models import Message

from .client import FacebookError, graph_for
from .services import account_unhealthy


def moderate(*, message: Message, hidden: bool) -> None:
    details = (message.metadata or {}).get("facebook") or {}
    comment_id = details.get("comment_id")
    if not comment_id:
        raise ApplicationError(_("Only a Facebook comment can be hidden"), extra={"message_id": message.id})
    if not details.get("can_hide") or message.direction != Message.Direction.IN:
        raise ApplicationError(_("This comment cannot be hidden (the Page's own comments are not hidden)"),
                               extra={"message_id": message.id})
    account = message.channel_account
    try:
        graph = graph_for(account)
        graph.call("request", graph.path(comment_id), post_args={"is_hidden": "true" if hidden else "false"})
    except FacebookError as exc:
        if exc.kind in ("rate_limit", "expired_token"):
            account_unhealthy(account, exc)
        text = (_("Facebook did not hide the comment: %(error)s") if hidden else _("Facebook did not show the comment: %(error)s")) % {
            "error": exc}
        if exc.kind in ("rate_limit", "temporary"):
            raise TemporarySendError(text, retry_after=exc.retry_after) from exc
        raise PermanentSendError(text) from exc
