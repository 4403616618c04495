from django.apps import AppConfig


class WebformConfig(AppConfig):
    name = "apps.connectors.webform"
    label = "webform"
    verbose_name = "Web forms"
