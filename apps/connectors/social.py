"""Helpers shared by the social connectors (Twitter / X, Facebook)."""
import json
import re

from django.conf import settings

from apps.core.parsing import json_documents, json_parse
from apps.inbox.inbound import ParseError

# Deliberately plain: an address someone typed in a tweet or a message, not RFC 5322 in full.
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}(?![\w-])")


def emails_in_text(text: str, *, ignore_domains=None) -> list[str]:
    """Email addresses written in a message, lower-cased, first occurrence order, at most 3.

    A connector adds them as extra SenderIdentity("email", ...) of an inbound message, so a
    customer who writes the same address on two networks (or by mail) becomes one customer.
    ignore_domains: the brand's own domains (default settings.OWN_EMAIL_DOMAINS) — "write to
    soporte@tienda.example" must not make every customer who quotes it one person.
    """
    domains = settings.OWN_EMAIL_DOMAINS if ignore_domains is None else ignore_domains
    ignored = {d.strip().lower().lstrip("@") for d in domains}
    found: list[str] = []
    for match in _EMAIL.finditer(text or ""):
        address = match.group(0).rstrip(".").lower()
        if address not in found and address.rsplit("@", 1)[1] not in ignored:
            found.append(address)
    return found[:3]


def json_body(raw: bytes):
    """A provider's JSON body, or ParseError saying why not."""
    try:
        return json_parse(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ParseError(f"body is not UTF-8: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ParseError(f"not JSON: {exc}") from exc


def split_json_bodies(name: str, raw: bytes):
    """For `manage.py ingest`: a file is one body (kept as is), a JSON list of bodies, or JSON lines."""
    try:
        data = json_documents(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        yield name, raw  # parse() says what is wrong; it becomes a dead letter
        return
    if not isinstance(data, list):
        yield name, raw
        return
    for i, body in enumerate(data):
        yield f"{name}[{i}]", json.dumps(body).encode()
