"""The Graph API through facebook-sdk (facebook.GraphAPI), and what its errors mean for us.

facebook-sdk 3.1.0 only accepts API versions up to 3.1 in its constructor, so the client is
built without one and the version is set afterwards (settings["graph_version"], default v19.0).
It reads facebook.FACEBOOK_GRAPH_URL at call time (tests point it at a loopback server).
The library raises GraphAPIError for an error body and lets requests' own errors through; it
keeps neither the HTTP status nor the headers, so a response hook on our session does.
"""
from contextlib import contextmanager
from dataclasses import dataclass

import facebook
import requests

from apps.core.parsing import json_parse

DEFAULT_VERSION = "v19.0"
TIMEOUT = 20  # seconds per call

# https://developers.facebook.com/docs/graph-api/overview/rate-limiting: app (4), user (17),
# page (32) and per-call (613) throttling; 80001-80014: business-use-case (page) limits.
RATE_LIMIT_CODES = {4, 17, 32, 613, *range(80001, 80015)}
EXPIRED_TOKEN_CODE = 190
TRANSIENT_CODES = {1, 2}  # "An unknown error occurred", "Service temporarily unavailable"
DEFAULT_RATE_LIMIT_PAUSE = 15 * 60  # when the headers do not say how long
_END = object()


class FacebookError(Exception):
    """A failed Graph API call, classified: rate_limit, expired_token, temporary or permanent."""

    def __init__(self, message: str, *, kind: str, retry_after: float | None = None, code=None, subcode=None):
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after
        self.code = code
        self.subcode = subcode


@dataclass
class Graph:
    api: facebook.GraphAPI
    last_response: requests.Response | None = None

    def call(self, method: str, *args, **kwargs):
        """api.<method>(...) with its failures turned into FacebookError."""
        with self._errors():
            return getattr(self.api, method)(*args, **kwargs)

    def all_connections(self, id: str, connection: str, **args):
        """api.get_all_connections (follows paging.next page by page), failures turned into FacebookError."""
        items = self.api.get_all_connections(id, connection, **args)
        while True:
            with self._errors():
                item = next(items, _END)
            if item is _END:
                return
            yield item

    @contextmanager
    def _errors(self):
        self.last_response = None
        try:
            yield
        except facebook.GraphAPIError as exc:
            raise self._classify(exc) from exc
        except requests.RequestException as exc:  # refused, timed out, reset: the network, not Facebook
            raise FacebookError(f"Graph API unreachable: {exc.__class__.__name__}: {exc}", kind="temporary") from exc
        except ValueError as exc:  # a JSON content type with a body that is not JSON
            raise FacebookError(f"Graph API answered garbage: {exc}", kind="temporary") from exc

    def path(self, *parts: str) -> str:
        return "/".join([self.api.version, *parts])

    def _classify(self, exc: facebook.GraphAPIError) -> FacebookError:
        status = self.last_response.status_code if self.last_response is not None else None
        error = exc.result.get("error") if isinstance(exc.result, dict) and isinstance(exc.result.get("error"), dict) else {}
        code, subcode = exc.code, error.get("error_subcode")
        text = f"Graph API error {code}" + (f"/{subcode}" if subcode else "") + f": {exc.message}"
        if status is not None:
            text += f" (HTTP {status})"
        if code in RATE_LIMIT_CODES or status == 429:
            return FacebookError(text, kind="rate_limit", retry_after=self._regain_seconds(), code=code, subcode=subcode)
        if code == EXPIRED_TOKEN_CODE:
            return FacebookError(f"Page token expired: reconnect the Page ({text})", kind="expired_token", code=code, subcode=subcode)
        if code in TRANSIENT_CODES or error.get("is_transient") or (status is not None and status >= 500):
            return FacebookError(text, kind="temporary", code=code, subcode=subcode)
        return FacebookError(text, kind="permanent", code=code, subcode=subcode)

    def _regain_seconds(self) -> float:
        """X-Business-Use-Case-Usage / X-App-Usage say how many minutes until calls are allowed again."""
        headers = self.last_response.headers if self.last_response is not None else {}
        minutes = 0
        for name in ("X-Business-Use-Case-Usage", "X-Page-Usage", "X-App-Usage"):
            try:
                usage = json_parse(headers.get(name) or "null")
            except ValueError:
                continue
            for entry in _usage_entries(usage):
                value = entry.get("estimated_time_to_regain_access")
                if isinstance(value, (int, float)):
                    minutes = max(minutes, value)
        return minutes * 60 if minutes else DEFAULT_RATE_LIMIT_PAUSE


def _usage_entries(usage) -> list[dict]:
    if isinstance(usage, dict):
        # X-Business-Use-Case-Usage: {"<business id>": [{...}]}; X-App-Usage: {...} itself.
        nested = [e for v in usage.values() if isinstance(v, list) for e in v if isinstance(e, dict)]
        return nested or [usage]
    return []


def graph_for(account) -> Graph:
    token = (account.secrets or {}).get("page_access_token")
    if not token:
        raise FacebookError("this Facebook account has no page_access_token (secrets)", kind="expired_token")
    session = requests.Session()
    graph = Graph(api=facebook.GraphAPI(access_token=token, timeout=TIMEOUT, session=session))
    graph.api.version = (account.settings or {}).get("graph_version") or DEFAULT_VERSION

    def remember(response, *args, **kwargs):
        graph.last_response = response

    session.hooks["response"].append(remember)
    return graph
