"""The desk's own threading token in outgoing mail.

Each reply leaves with Message-ID <c{conversation}.m{message}.{sig}@{domain}> and Reply-To
<local>+c{conversation}.m{message}.{sig}@{domain}. The customer's answer names that Message-ID in
In-Reply-To/References; when a client drops those headers, the plus address it replies to still
carries the token, and parse() turns it back into the same Message-ID, which is the external id
our sent reply is stored under: ingest then threads the answer into that conversation.

The signature (HMAC with the secret key) makes a token unguessable, so nobody joins another
customer's conversation by writing to support+c1.m1…@. A subject tag [#123] is shown to people
but not trusted for threading for the same reason.
"""
import hashlib
import hmac
import re

TOKEN = re.compile(r"^c(\d+)\.m(\d+)\.([0-9a-f]{10})$")
SUBJECT_TAG = re.compile(r"\[#(\d+)\]")


def reply_token(*, conversation_id: int, message_id: int, secret: str) -> str:
    base = f"c{conversation_id}.m{message_id}"
    sig = hmac.new(secret.encode(), base.encode(), hashlib.sha256).hexdigest()[:10]
    return f"{base}.{sig}"


def split_address(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().rpartition("@")
    return local, domain.lower()


def token_message_id(*, token: str, address: str) -> str:
    """The Message-ID (without <>) of the reply carrying this token, on the account's domain."""
    return f"{token}@{split_address(address)[1]}"


def plus_address(*, address: str, token: str) -> str:
    local, domain = split_address(address)
    return f"{local}+{token}@{domain}"


def reference_from_address(address: str) -> str | None:
    """support+c1.m2.0123456789@Example.com -> c1.m2.0123456789@example.com, else None."""
    local, domain = split_address(address)
    if "+" not in local or not domain:
        return None
    token = local.rpartition("+")[2].lower()
    return f"{token}@{domain}" if TOKEN.match(token) else None
