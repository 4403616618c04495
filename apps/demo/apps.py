from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo's seed and simulated customers, and the process supervisor `run_desk`: on top of every app."""

    name = "apps.demo"
    label = "demo"
