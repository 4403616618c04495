"""The Graph API stand-in lives in apps/demo/standins/graph.py (the demo runs it too); the tests import it from here."""
from apps.demo.standins.graph import ACCESS_TOKEN, GraphServer  # noqa: F401
