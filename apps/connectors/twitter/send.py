"""Agent replies on X, public or private as the agent chose (Message.is_public).

Public: a tweet in reply to the conversation's latest inbound tweet (POST /2/tweets with
reply.in_reply_to_tweet_id; X adds the @mentions of the thread itself). Private: a DM into
the conversation's DM thread (POST /2/dm_conversations/:id/messages), or, for a tweet thread,
to the author of its latest tweet (POST /2/dm_conversations/with/:user_id/messages).
Returns "tweet:<id>" / "dm:<event id>" — the external ids the poller gives the same items,
so our own reply seen again in the DM events is a duplicate, not a second message.
"""
import time

import requests
import tweepy

from apps.connectors.services import channel_account_record_failure
from apps.core.parsing import digits_parse
from apps.inbox.channels import PermanentSendError, TemporarySendError
from apps.inbox.models import Message

from .client import RECONNECT, BadBody, CredentialsMissing, XApi, error_text


def send(*, message, account) -> str:
    conversation = message.conversation
    try:
        api = XApi(secrets=account.secrets)
        if message.is_public:
            return f"tweet:{api.tweet(text=message.text, in_reply_to_tweet_id=_tweet_to_answer(conversation))}"
        dm_conversation_id, participant_id = _dm_target(conversation)
        return f"dm:{api.direct_message(text=message.text, dm_conversation_id=dm_conversation_id, participant_id=participant_id)}"
    except CredentialsMissing as exc:
        raise PermanentSendError(str(exc)) from exc
    except tweepy.TooManyRequests as exc:
        reset = exc.response.headers.get("x-rate-limit-reset") if exc.response is not None else None
        reset_at = digits_parse(str(reset or ""))
        retry_after = max(reset_at - time.time(), 1.0) if reset_at is not None else None
        raise TemporarySendError(f"rate limited by X ({error_text(exc)})", retry_after=retry_after) from exc
    except tweepy.TwitterServerError as exc:
        raise TemporarySendError(error_text(exc)) from exc
    except tweepy.Unauthorized as exc:
        error = f"X refused the account's credentials ({error_text(exc)}): {RECONNECT}"
        channel_account_record_failure(account=account, error=error)
        raise PermanentSendError(error) from exc
    except tweepy.HTTPException as exc:  # 403 duplicate content, not allowed to DM this user, 400 …
        raise PermanentSendError(error_text(exc)) from exc
    except (requests.RequestException, BadBody) as exc:
        raise TemporarySendError(f"{exc.__class__.__name__}: {exc}") from exc


def _latest_inbound(conversation, prefix: str):
    return (
        Message.objects.filter(conversation=conversation, direction=Message.Direction.IN, external_id__startswith=prefix)
        .order_by("-sent_at", "-id")
        .first()
    )


def _tweet_to_answer(conversation) -> str:
    latest = _latest_inbound(conversation, "tweet:")
    if latest is None:
        raise PermanentSendError("this conversation has no tweet to reply to: send a private reply (direct message)")
    return latest.external_id.removeprefix("tweet:")


def _dm_target(conversation) -> tuple[str | None, str | None]:
    """(dm_conversation_id, participant_id): one of them."""
    latest_dm = _latest_inbound(conversation, "dm:")
    if latest_dm is not None and latest_dm.metadata.get("twitter", {}).get("conversation_id"):
        return latest_dm.metadata["twitter"]["conversation_id"], None
    latest = _latest_inbound(conversation, "")
    author = (latest.metadata.get("twitter", {}).get("author_id") if latest is not None else "") or ""
    if not author and (conversation.thread_key or "").startswith("dm:"):
        # A DM conversation the desk started: the participant is the pair's id that is not ours.
        own = str((conversation.channel_account.settings or {}).get("user_id") or "")
        author = next((i for i in conversation.thread_key.removeprefix("dm:").split("-") if i and i != own), "")
    if not author:
        raise PermanentSendError("the author of this conversation is unknown: a direct message cannot be addressed")
    return None, author
