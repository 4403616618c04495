"""Agent replies on a Facebook Page (its channel.py declares it).

Messenger thread -> Send API: POST /me/messages {recipient: {id: PSID}, messaging_type, [tag],
message: {text}}; the window (composer.messenger_window) decides RESPONSE, MESSAGE_TAG +
HUMAN_AGENT, or a refusal. Returns "mid:<message_id>", the id the page's echo webhook will
carry, so the echo is recognised as this reply and not stored twice.
Comment thread -> public: POST /<top-level comment id>/comments {message} ("comment:<id>");
private: a private reply, POST /me/messages {recipient: {comment_id}} to the customer's latest
comment (Messenger allows one per comment, within 7 days).
"""
import json

from apps.inbox.channels import PermanentSendError, TemporarySendError
from apps.inbox.models import Message

from .client import FacebookError, graph_for
from .composer import is_comment_thread, last_inbound_at, messenger_window
from .services import account_unhealthy


def send(*, message, account) -> str:
    conversation = message.conversation
    try:
        graph = graph_for(account)
        if is_comment_thread(conversation):
            if message.is_public:
                return _comment_reply(graph, conversation, message.text)
            return _private_reply(graph, conversation, message.text)
        return _messenger_reply(graph, conversation, message.text)
    except FacebookError as exc:
        if exc.kind in ("rate_limit", "expired_token", "temporary"):
            account_unhealthy(account, exc)  # the account's health shows why replies stall (unreachable Graph too)
        if exc.kind in ("rate_limit", "temporary"):
            raise TemporarySendError(str(exc), retry_after=exc.retry_after) from exc
        raise PermanentSendError(str(exc)) from exc


def _messenger_reply(graph, conversation, text: str) -> str:
    psid = _psid(conversation)
    if not psid:
        raise PermanentSendError("this conversation has no Messenger recipient (no PSID)")
    window = messenger_window(last_inbound_at(conversation))
    if window.messaging_type is None:
        raise PermanentSendError(window.notice)
    args = {"recipient": {"id": psid}, "messaging_type": window.messaging_type, "message": {"text": text}}
    if window.tag:
        args["tag"] = window.tag
    return "mid:" + _message_id(_send_api(graph, args))


def _psid(conversation) -> str:
    """From the thread key; else (conversations made before it, or imported) the customer's Facebook identity."""
    key = conversation.thread_key or ""
    if key.startswith("psid:"):
        return key.removeprefix("psid:")
    latest = (
        Message.objects.filter(conversation=conversation, direction=Message.Direction.IN, sender_identity__kind="facebook")
        .order_by("-sent_at", "-id").values_list("sender_identity__value", flat=True).first()
    )
    return latest or ""


def _comment_reply(graph, conversation, text: str) -> str:
    top = conversation.thread_key.rsplit(":", 1)[-1]  # post:<post id>:<top-level comment id>
    result = graph.call("put_object", top, "comments", message=text)
    if not isinstance(result, dict) or not result.get("id"):
        raise PermanentSendError(f"the Graph API did not return the new comment's id: {result!r}")
    return f"comment:{result['id']}"


def _private_reply(graph, conversation, text: str) -> str:
    latest = (
        Message.objects.filter(conversation=conversation, direction=Message.Direction.IN)
        .order_by("-sent_at", "-id").values_list("metadata", flat=True).first()
    )
    comment_id = ((latest or {}).get("facebook") or {}).get("comment_id")
    if not comment_id:
        raise PermanentSendError("no comment from the customer to answer privately")
    return "mid:" + _message_id(_send_api(graph, {"recipient": {"comment_id": comment_id}, "message": {"text": text}}))


def _send_api(graph, args: dict) -> dict:
    # Form-encoded, with the objects as JSON strings (what the Send API accepts).
    post_args = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in args.items()}
    return graph.call("request", graph.path("me", "messages"), post_args=post_args)


def _message_id(result) -> str:
    if not isinstance(result, dict) or not result.get("message_id"):
        raise PermanentSendError(f"the Send API did not return a message_id: {result!r}")
    return str(result["message_id"])
