"""The websocket side of the ASGI app: who is on the socket, then which consumer serves it."""
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser
from django.urls import path
from rest_framework.authtoken.models import Token

from . import consumers

websocket_urlpatterns = [path("ws/desk/", consumers.DeskConsumer.as_asgi())]


class WebsocketAuth:
    """Sets scope["user"] from a DRF token (non-browser clients) or the session cookie (browsers).

    A token is sent as `?token=<key>` or `Authorization: Token <key>`. It is not an ambient
    credential (a foreign page cannot send it on the user's behalf), so token clients skip the
    Origin check. A cookie is ambient, so sessions are accepted only from our own hosts
    (AllowedHostsOriginValidator): that stops cross-site websocket hijacking. A connection that
    presents a token never falls back to the cookie. Query strings end up in access logs: clients
    that can set headers should prefer the Authorization header.
    """

    def __init__(self, inner):
        self.inner = inner
        self.by_session = AllowedHostsOriginValidator(AuthMiddlewareStack(inner))

    async def __call__(self, scope, receive, send):
        key = _token_key(scope)
        if key is None:
            return await self.by_session(scope, receive, send)
        user = await _token_user(key)
        return await self.inner(dict(scope, user=user), receive, send)


def _token_key(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, key = value.decode("latin1").partition(" ")
            if scheme.lower() == "token":
                return key.strip()
    keys = parse_qs(scope.get("query_string", b"").decode("latin1"), keep_blank_values=True).get("token")
    return keys[0] if keys else None


@database_sync_to_async
def _token_user(key: str):
    token = Token.objects.select_related("user").filter(key=key).first() if key else None
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


websocket_application = WebsocketAuth(URLRouter(websocket_urlpatterns))
