"""Pay a server process's one-off costs before it takes traffic, not on its first requests.

A fresh gunicorn worker imported every URLconf and view module, DRF's renderers, the message
storage and the translation catalogs inside its first requests (0.4-0.7 s): with the workers
started together, those first webhooks were the latency tail of a whole bench run
(bench/README.md, live_latency), and so was the first task each one queued. config/gunicorn.py
calls `application_warm` once per worker before it serves; the Celery worker processes call
`process_warm`.
"""
import logging
from wsgiref.util import setup_testing_defaults

from django.conf import settings
from django.db import connections
from django.urls import get_resolver
from django.utils import translation
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)
WARM_PATH = "/login/"  # a page every layout serves without touching the database


def process_warm() -> None:
    resolver = get_resolver()
    resolver.url_patterns  # imports config/urls.py and, through it, every app's views
    resolver.reverse_dict  # the reverse index, built on the first reverse() otherwise
    for name in api_settings.import_strings:  # DRF's renderers, parsers, authentication… (imported on first use)
        getattr(api_settings, name)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):  # loads every app's catalog for that language
            translation.gettext("Inbox")


def broker_warm() -> None:
    """The first task a web process queued (a webhook's drain nudge) finalized the Celery app,
    importing every tasks module, and connected to the broker: 25-30 ms inside one request."""
    from celery import current_app

    current_app.loader.import_default_modules()
    current_app.tasks  # finalizes the app
    with current_app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(max_retries=1)


def application_warm(application) -> None:
    """process_warm and broker_warm, then one GET of WARM_PATH through the whole WSGI stack (every
    middleware, the template engine). A failure is logged: a cold worker is slower, not broken."""
    process_warm()
    try:
        broker_warm()
    except Exception:
        logger.exception("warm-up: the broker did not answer")
    host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if "*" not in h), "localhost")
    environ = {"PATH_INFO": WARM_PATH, "HTTP_HOST": host, "SERVER_NAME": host, "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    statuses = []
    try:
        body = application(environ, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(body)
        getattr(body, "close", lambda: None)()
        if not statuses or not statuses[0].startswith("200"):
            logger.warning("warm-up GET %s answered %s", WARM_PATH, statuses[:1])
    except Exception:
        logger.exception("warm-up GET %s failed", WARM_PATH)
    finally:
        connections.close_all()  # nothing opened here may be shared with the request threads
