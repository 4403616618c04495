"""Facebook Page payloads -> InboundMessage (pure: no database, no network).

Two sources, one parser:

* Webhook bodies (`{"object": "page", "entry": [...]}`), as Facebook POSTs them:
  - entry[].messaging[]: Messenger events. A message (text, attachments, is_echo = the
    page's own message, seen as direction "out") or a postback (a button the person tapped).
    Delivery, read, reaction, edit and opt-in events carry no message: statuses() reads
    them (receipts, reactions, edits and unsends applied to the messages they concern).
  - entry[].changes[] with field "feed" and item "comment": a comment on one of the page's
    posts. Verbs add/edited become messages (an edit of a stored comment is a duplicate of
    it); hide/remove/unhide change nothing we keep. The sender is `from: {id, name}` or, in
    older payloads, `sender_id` / `sender_name`.
* The polling fallback's Graph API answers, wrapped by the poller in an envelope that adds
  what the answer itself does not say (which page asked):
      {"source": "graph", "edge": "conversations" | "feed", "page_id": "...",
       "response": <the Graph API JSON body, verbatim>}
  "conversations": GET /{page}/conversations?fields=messages{id,message,from,to,created_time,attachments}
  "feed":          GET /{page}/feed?fields=id,permalink_url,comments{id,message,from,created_time,parent,...}

Threads: Messenger is one conversation per person ("psid:<psid>"); a top-level comment and
its replies are one conversation ("post:<post id>:<top-level comment id>"). External ids:
"mid:<mid>" and "comment:<id>", the same whether the message came by webhook or by poll, so
the two overlap safely.
"""
from datetime import datetime, timezone

from apps.connectors.social import emails_in_text, json_body
from apps.core.parsing import digits_parse
from apps.inbox.inbound import InboundAttachment, InboundMessage, InboundStatus, ParseError, SenderIdentity

COMMENT_VERBS = {"add", "edited"}  # hide / remove / unhide: nothing new to store
ATTACHMENT_TYPES = {"image": "image/*", "video": "video/*", "audio": "audio/*", "file": "application/octet-stream"}


def parse(raw: bytes, *, account_id: int) -> list[InboundMessage]:
    body = json_body(raw)
    if not isinstance(body, dict):
        raise ParseError("expected a JSON object (a Page webhook body or a Graph API envelope)")
    if body.get("source") == "graph":
        return _graph(body, account_id)
    if body.get("object") != "page":
        raise ParseError(f"not a Facebook Page webhook body (object={body.get('object')!r})")
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise ParseError("a Page webhook body needs an entry list")
    messages = []
    for e, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ParseError(f"entry {e}: expected an object")
        page_id = _id(entry.get("id"))
        for i, event in enumerate(_list(entry, "messaging", f"entry {e}")):
            message = _messenger_event(event, page_id, account_id, f"entry {e} messaging {i}: ")
            if message is not None:
                messages.append(message)
        for i, change in enumerate(_list(entry, "changes", f"entry {e}")):
            message = _feed_change(change, page_id, account_id, f"entry {e} change {i}: ")
            if message is not None:
                messages.append(message)
    return messages


# --- what Messenger reports about messages already stored -----------------------------------


# A Page moderator hid or showed a comment on Facebook itself (the feed webhook's verbs).
VISIBILITY_VERBS = {"hide": "hidden", "unhide": "shown"}


def statuses(raw: bytes, messages: list[InboundMessage], *, account_id: int) -> list[InboundStatus]:
    """Delivery and read receipts (by mids or by watermark), reactions, edits and unsends; comments
    hidden or shown again on Facebook. Messages themselves are parse()'s; an unsend arrives as a
    message event with is_deleted."""
    body = json_body(raw)
    if not isinstance(body, dict) or body.get("object") != "page" or not isinstance(body.get("entry"), list):
        return []
    found = []
    for entry in body["entry"]:
        if not isinstance(entry, dict):
            continue
        for event in entry.get("messaging") or []:
            if isinstance(event, dict):
                found += _messenger_statuses(event, account_id)
        for change in entry.get("changes") or []:
            value = change.get("value") if isinstance(change, dict) else None
            if change.get("field") == "feed" and isinstance(value, dict) and value.get("item") == "comment" \
                    and value.get("verb") in VISIBILITY_VERBS and _id(value.get("comment_id")):
                found.append(InboundStatus(account_id=account_id, kind=VISIBILITY_VERBS[value["verb"]],
                                           external_ids=[f"comment:{_id(value['comment_id'])}"], data={"on": "facebook"}))
    return found


def _messenger_statuses(event: dict, account_id: int) -> list[InboundStatus]:
    psid = _id((event.get("sender") or {}).get("id"))
    at = _optional_epoch(event.get("timestamp"))
    delivery, read = event.get("delivery"), event.get("read")
    reaction, edit, message = event.get("reaction"), event.get("message_edit"), event.get("message")
    if isinstance(delivery, dict):
        mids = [f"mid:{_id(m)}" for m in delivery.get("mids") or [] if _id(m)]
        until = _optional_epoch(delivery.get("watermark"))
        if mids:
            return [InboundStatus(account_id=account_id, kind="delivered", external_ids=mids, at=at or until)]
        if until and psid:
            return [InboundStatus(account_id=account_id, kind="delivered", thread_key=f"psid:{psid}", until=until, at=until)]
    if isinstance(read, dict) and psid and (until := _optional_epoch(read.get("watermark"))):
        return [InboundStatus(account_id=account_id, kind="read", thread_key=f"psid:{psid}", until=until, at=until)]
    if isinstance(reaction, dict) and _id(reaction.get("mid")):
        return [InboundStatus(
            account_id=account_id, kind="reaction", external_ids=[f"mid:{_id(reaction['mid'])}"], at=at,
            data={"reaction": str(reaction.get("reaction") or ""), "emoji": str(reaction.get("emoji") or ""),
                  "removed": reaction.get("action") == "unreact"},
        )]
    if isinstance(edit, dict) and _id(edit.get("mid")):
        return [InboundStatus(account_id=account_id, kind="edited", external_ids=[f"mid:{_id(edit['mid'])}"], at=at,
                              data={"text": str(edit.get("text") or "")})]
    if isinstance(message, dict) and message.get("is_deleted") and _id(message.get("mid")):
        return [InboundStatus(account_id=account_id, kind="unsent", external_ids=[f"mid:{_id(message['mid'])}"], at=at)]
    return []


def _optional_epoch(value) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc) if isinstance(value, int) and value > 0 else None


# --- Messenger -------------------------------------------------------------------------------


def _messenger_event(event, page_id: str, account_id: int, where: str) -> InboundMessage | None:
    if not isinstance(event, dict):
        raise ParseError(where + "expected an object")
    sender, recipient = _id((event.get("sender") or {}).get("id")), _id((event.get("recipient") or {}).get("id"))
    message, postback = event.get("message"), event.get("postback")
    if not isinstance(message, dict) and not isinstance(postback, dict):
        # delivery / read / reaction / edit / optin: no message to store (statuses() reads them),
        # and receipts may come without a timestamp (their watermark says when).
        return None
    sent_at = _epoch(event.get("timestamp"), where)
    if isinstance(message, dict):
        mid = _id(message.get("mid"))
        if not mid:
            raise ParseError(where + "message without mid")
        if message.get("is_deleted"):
            return None  # the customer unsent an earlier message: statuses() applies it
        echo = bool(message.get("is_echo")) or (page_id and sender == page_id)
        psid = recipient if echo else sender
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        attachments, extras = _messenger_attachments(message.get("attachments"), where)
        reply_to = _id((message.get("reply_to") or {}).get("mid"))
        return _messenger_message(
            account_id, psid=psid, mid=mid, name="", text=text or extras, sent_at=sent_at, echo=echo,
            attachments=attachments, references=[f"mid:{reply_to}"] if reply_to else [], where=where,
        )
    # Newer postbacks carry a mid; older ones do not, and are named by who tapped and when.
    mid = _id(postback.get("mid")) or f"postback-{sender}-{event.get('timestamp')}"
    title = str(postback.get("title") or postback.get("payload") or "")
    return _messenger_message(
        account_id, psid=sender, mid=mid, name="", text=title, sent_at=sent_at, echo=False,
        attachments=[], references=[], where=where, extra={"postback": {"title": title, "payload": postback.get("payload")}},
    )


def _messenger_attachments(items, where: str) -> tuple[list[InboundAttachment], str]:
    """Media with a URL become attachments; the rest (a shared location, a template) is named in the text."""
    if items in (None, ""):
        return [], ""
    if not isinstance(items, list):
        raise ParseError(where + "attachments must be a list")
    attachments, described = [], []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        kind = str(item.get("type") or "file")
        payload = item.get("payload") if isinstance(item.get("payload"), dict) else {}
        url = payload.get("url") if isinstance(payload.get("url"), str) else ""
        if url:
            attachments.append(InboundAttachment(
                filename=str(item.get("name") or payload.get("title") or f"{kind}-{n + 1}"),
                content_type=ATTACHMENT_TYPES.get(kind, "application/octet-stream"), url=url,
            ))
        else:
            described.append(f"[{item.get('title') or kind}]")
    return attachments, " ".join(described)


def _messenger_message(account_id, *, psid, mid, name, text, sent_at, echo, attachments, references, where, extra=None):
    if not psid:
        raise ParseError(where + "no sender/recipient id (PSID)")
    if not mid:
        raise ParseError(where + "message without id")
    if not text and not attachments:
        text = "[empty message]"
    return InboundMessage(
        account_id=account_id,
        external_id=f"mid:{mid}"[:255],
        senders=_senders("facebook", psid, name, text if not echo else ""),
        sent_at=sent_at,
        text=text,
        thread_key=f"psid:{psid}",
        references=references,
        direction="out" if echo else "in",
        is_public=False,
        attachments=attachments,
        metadata={"facebook": {"mid": mid, "post_id": "", "psid": psid, "hidden": False, "can_hide": False,
                               "permalink": "", **(extra or {})}},
    )


# --- Page comments ------------------------------------------------------------------------------


def _feed_change(change, page_id: str, account_id: int, where: str) -> InboundMessage | None:
    if not isinstance(change, dict):
        raise ParseError(where + "expected an object")
    value = change.get("value")
    if change.get("field") != "feed" or not isinstance(value, dict) or value.get("item") != "comment":
        return None  # posts, reactions, likes, status updates: not conversations
    if value.get("verb") not in COMMENT_VERBS:
        return None
    sender = value.get("from") if isinstance(value.get("from"), dict) else {}
    return _comment(
        account_id,
        page_id=page_id,
        comment_id=_id(value.get("comment_id")),
        post_id=_id(value.get("post_id")),
        parent_id=_id(value.get("parent_id")),
        from_id=_id(sender.get("id") or value.get("sender_id")),
        name=str(sender.get("name") or value.get("sender_name") or ""),
        text=value.get("message") if isinstance(value.get("message"), str) else "",
        sent_at=graph_time(value.get("created_time"), where),
        photo=value.get("photo") if isinstance(value.get("photo"), str) else "",
        permalink="",
        where=where,
    )


def _comment(account_id, *, page_id, comment_id, post_id, parent_id, from_id, name, text, sent_at, photo, permalink, where,
             hidden=False):
    if not comment_id or not post_id:
        raise ParseError(where + "a comment needs comment_id and post_id")
    top = parent_id if parent_id and parent_id != post_id else comment_id
    out = bool(page_id) and from_id == page_id
    attachments = [InboundAttachment(filename="photo", content_type="image/*", url=photo)] if photo else []
    return InboundMessage(
        account_id=account_id,
        external_id=f"comment:{comment_id}"[:255],
        # Facebook leaves the author out when the Page may not read it: kept, flagged unknown_sender by ingest.
        senders=_senders("facebook", from_id, name, text if not out else "") if from_id else [],
        sent_at=sent_at,
        text=text or ("" if attachments else "[empty comment]"),
        thread_key=f"post:{post_id}:{top}"[:255],
        references=[f"comment:{top}"] if top != comment_id else [],
        direction="out" if out else "in",
        is_public=True,
        attachments=attachments,
        metadata={"facebook": {
            "comment_id": comment_id, "post_id": post_id, "from_id": from_id, "hidden": bool(hidden),
            "can_hide": not out, "permalink": permalink or f"https://www.facebook.com/{post_id}?comment_id={comment_id}",
        }},
    )


# --- Graph API answers (polling fallback) ---------------------------------------------------------


def _graph(body: dict, account_id: int) -> list[InboundMessage]:
    page_id, edge, response = _id(body.get("page_id")), body.get("edge"), body.get("response")
    if not page_id:
        raise ParseError("graph envelope: page_id is required")
    if not isinstance(response, dict) or not isinstance(response.get("data", []), list):
        raise ParseError("graph envelope: response must be a Graph API object with a data list")
    if edge == "conversations":
        return [m for i, c in enumerate(response.get("data", [])) for m in _graph_conversation(c, page_id, account_id, i)]
    if edge == "feed":
        return [m for i, p in enumerate(response.get("data", [])) for m in _graph_post(p, page_id, account_id, i)]
    raise ParseError(f"graph envelope: unknown edge {edge!r} (conversations or feed)")


def _graph_conversation(conversation, page_id: str, account_id: int, index: int) -> list[InboundMessage]:
    where = f"conversation {index}: "
    if not isinstance(conversation, dict):
        raise ParseError(where + "expected an object")
    messages = []
    for i, m in enumerate(_list(conversation.get("messages") or {}, "data", where)):
        at = f"{where}message {i}: "
        if not isinstance(m, dict):
            raise ParseError(at + "expected an object")
        sender = m.get("from") if isinstance(m.get("from"), dict) else {}
        echo = _id(sender.get("id")) == page_id
        if echo:
            to = [p for p in _list(m.get("to") or {}, "data", at) if isinstance(p, dict) and _id(p.get("id")) != page_id]
            person = to[0] if to else {}
        else:
            person = sender
        attachments, extras = _graph_attachments(m.get("attachments"))
        text = m.get("message") if isinstance(m.get("message"), str) else ""
        messages.append(_messenger_message(
            account_id, psid=_id(person.get("id")), mid=_id(m.get("id")), name=str(person.get("name") or ""),
            text=text or extras, sent_at=graph_time(m.get("created_time"), at), echo=echo, attachments=attachments,
            references=[], where=at,
        ))
    return messages


def _graph_attachments(items) -> tuple[list[InboundAttachment], str]:
    data = items.get("data") if isinstance(items, dict) else None
    attachments, described = [], []
    for n, a in enumerate(data or []):
        if not isinstance(a, dict):
            continue
        url = (a.get("image_data") or {}).get("url") or (a.get("video_data") or {}).get("url") or a.get("file_url") or ""
        if url:
            attachments.append(InboundAttachment(filename=str(a.get("name") or f"attachment-{n + 1}"),
                                                 content_type=str(a.get("mime_type") or "application/octet-stream"), url=url))
        else:
            described.append(f"[{a.get('name') or 'attachment'}]")
    return attachments, " ".join(described)


def _graph_post(post, page_id: str, account_id: int, index: int) -> list[InboundMessage]:
    where = f"post {index}: "
    if not isinstance(post, dict):
        raise ParseError(where + "expected an object")
    post_id = _id(post.get("id"))
    messages = []
    for i, c in enumerate(_list(post.get("comments") or {}, "data", where)):
        at = f"{where}comment {i}: "
        if not isinstance(c, dict):
            raise ParseError(at + "expected an object")
        sender = c.get("from") if isinstance(c.get("from"), dict) else {}
        parent = c.get("parent") if isinstance(c.get("parent"), dict) else {}
        attachment = c.get("attachment") if isinstance(c.get("attachment"), dict) else {}
        photo = ((attachment.get("media") or {}).get("image") or {}).get("src") or ""
        messages.append(_comment(
            account_id, page_id=page_id, comment_id=_id(c.get("id")), post_id=post_id, parent_id=_id(parent.get("id")),
            from_id=_id(sender.get("id")), name=str(sender.get("name") or ""),
            text=c.get("message") if isinstance(c.get("message"), str) else "",
            sent_at=graph_time(c.get("created_time"), at), photo=photo if isinstance(photo, str) else "",
            permalink=str(c.get("permalink_url") or ""), where=at, hidden=bool(c.get("is_hidden")),
        ))
    return messages


# --- small helpers -----------------------------------------------------------------------------------


def _senders(kind: str, value: str, name: str, text: str) -> list[SenderIdentity]:
    """The page-scoped id first; an email the person typed joins them to that email's customer."""
    senders = [SenderIdentity(kind, value, display_name=name)]
    senders += [SenderIdentity("email", email, display_name=name) for email in emails_in_text(text)]
    return senders


def _list(container: dict, key: str, where: str) -> list:
    value = container.get(key) if isinstance(container, dict) else None
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{where}: {key} must be a list")
    return value


def _id(value) -> str:
    """Ids arrive as numbers or strings; a float id would lose digits, so it is refused as empty."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _epoch(value, where: str) -> datetime:
    """Messenger timestamps are epoch milliseconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParseError(where + f"timestamp must be epoch milliseconds, not {value!r}")
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def graph_time(value, where: str = "") -> datetime:
    """Comment times: epoch seconds in webhooks, ISO 8601 ("2026-11-20T10:00:00+0000") from the Graph API."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, tz=timezone.utc)
    if isinstance(value, str) and value:
        text = value.strip()
        if (seconds := digits_parse(text)) is not None:
            return graph_time(seconds, where)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
            except ValueError:
                raise ParseError(where + f"created_time is not a date: {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    raise ParseError(where + f"created_time missing or not a date: {value!r}")
