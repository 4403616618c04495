from django.apps import AppConfig


class AssistConfig(AppConfig):
    """Answers for agents: help-center articles and resolved past cases for the customer's latest
    message (docs/suggestions.md). Reads inbox, crm and helpcenter; nothing imports it."""

    name = "apps.assist"
    label = "assist"
