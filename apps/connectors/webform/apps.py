from django.apps import AppConfig
from django.core import checks


class WebformConfig(AppConfig):
    name = "apps.connectors.webform"
    label = "webform"
    verbose_name = "Web forms"

    def ready(self):
        checks.register(check_settings)


def check_settings(app_configs=None, **kwargs):
    """A mistyped limit is reported at start (manage.py check, migrate, runserver), not on a visitor's submit."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from .services import rate_parse, submission_rate_limit

    errors = []
    try:
        rate_parse(submission_rate_limit())
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(f"WEBFORM_RATE_LIMIT: {exc}", id="webform.E001"))
    if getattr(settings, "WEBFORM_TRUSTED_PROXIES", 0) < 0:
        errors.append(checks.Error("WEBFORM_TRUSTED_PROXIES must be 0 or more", id="webform.E002"))
    return errors
