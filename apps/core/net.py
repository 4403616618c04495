"""Who is asking: the one rule for a client's address (web-form rate limit, sign-in lockout).

uvicorn is started without proxy headers unless FORWARDED_ALLOW_IPS names the proxies
(run_desk, Dockerfile, docker-compose.yml), so REMOTE_ADDR is the socket's peer and this is
the only place X-Forwarded-For is read.
"""
import ipaddress
import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry our own proxies vouch for.

    Each trusted proxy appends the address it received from, so with N of them
    (WEBFORM_TRUSTED_PROXIES) the client is the N-th entry from the right; anything further left
    was written by the client and is not trusted.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.WEBFORM_TRUSTED_PROXIES
    if trusted > 0:
        chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if chain:
            candidate = chain[-trusted] if len(chain) >= trusted else chain[0]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                logger.warning("X-Forwarded-For entry %r is not an address; using REMOTE_ADDR", candidate)
    return remote
