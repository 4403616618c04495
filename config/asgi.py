"""ASGI entry points: Django for HTTP, Channels for /ws/desk/ (see apps/inbox/ws.py).

`application` serves both (the embedded desk: one process). `websocket_only` is the socket side of
the split layout (apps/demo/serving.py): nginx sends it /ws/ and every other request to gunicorn, so
no sync view ever runs in the process that fans live events out; HTTP reaching it is answered 404.
"""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (needs Django set up first)

from apps.inbox.ws import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})


async def _http_not_here(scope, receive, send):
    body = b"This process serves websockets only (/ws/); HTTP is served by gunicorn behind the proxy.\n"
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


websocket_only = ProtocolTypeRouter({"http": _http_not_here, "websocket": websocket_application})
