"""How a delivery is signed, and how a receiver checks it (the same function; see docs/admin-team.md).

signature = hex(HMAC-SHA256(secret, f"{timestamp}.{body}")), sent as
    X-Centralita-Timestamp: <unix seconds>
    X-Centralita-Signature: v1=<hex>
The timestamp is inside what is signed, so a captured request cannot be replayed later with a
fresh timestamp; a receiver refuses timestamps older than its tolerance (5 minutes here).
"""
import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Centralita-Timestamp"
SIGNATURE_HEADER = "X-Centralita-Signature"
EVENT_HEADER = "X-Centralita-Event"
DELIVERY_HEADER = "X-Centralita-Delivery"
TOLERANCE_SECONDS = 300


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(*, secret: str, timestamp: str, body: bytes, signature_header: str, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: right signature, and a timestamp close to now."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance:
        return False
    return hmac.compare_digest(signature(secret=secret, timestamp=ts, body=body), signature_header or "")
