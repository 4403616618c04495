"""Payload kind -> pure parser (and, for imports, how a file splits into payloads).

Each channel adds its kind here; webhooks, pollers, the drain and `manage.py ingest`
all go through the same parser.
"""
from importlib import import_module

PARSERS = {
    "api": "apps.connectors.api.parse.parse",
    "email": "apps.connectors.email.parse.parse",
}
SPLITTERS = {
    "api": "apps.connectors.api.parse.split",
    "email": "apps.connectors.email.parse.split",  # .eml files and mbox archives
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
