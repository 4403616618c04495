"""The X API stand-in lives in apps/demo/standins/x.py (the demo runs it too); the tests import it from here."""
from apps.demo.standins.x import OWN, OWN_ID, REVOKED_TOKEN, LoopbackAdapter, XServer  # noqa: F401
