"""Payload kind -> pure parser (and, for imports, how a file splits into payloads).

Each channel adds its kind here; webhooks, pollers, the drain and `manage.py ingest`
all go through the same parser.
"""
from importlib import import_module

PARSERS = {
    "api": "apps.connectors.api.parse.parse",
    "email": "apps.connectors.email.parse.parse",
    "twitter": "apps.connectors.twitter.parse.parse",
    "facebook": "apps.connectors.facebook.parse.parse",
    "twilio": "apps.connectors.phone.parse.parse_twilio",
    "asterisk": "apps.connectors.phone.parse.parse_asterisk",
    "webform": "apps.connectors.webform.parse.parse",
}
SPLITTERS = {
    "api": "apps.connectors.api.parse.split",
    "email": "apps.connectors.email.parse.split",  # .eml files and mbox archives
    "twitter": "apps.connectors.twitter.parse.split",
    "facebook": "apps.connectors.facebook.parse.split",
    "twilio": "apps.connectors.phone.parse.split_twilio",
    "asterisk": "apps.connectors.phone.parse.split_asterisk",  # one payload per CDR row
    "webform": "apps.connectors.webform.parse.split",
}


def _load(path: str):
    module_path, name = path.rsplit(".", 1)
    return getattr(import_module(module_path), name)


def parser_for(kind: str):
    if kind not in PARSERS:
        raise ValueError(f"unknown payload kind {kind!r}; known: {', '.join(sorted(PARSERS))}")
    return _load(PARSERS[kind])


def splitter_for(kind: str):
    """How a file of this kind splits into payloads; default: the whole file is one."""
    if kind in SPLITTERS:
        return _load(SPLITTERS[kind])
    return lambda name, raw: [(name, raw)]
