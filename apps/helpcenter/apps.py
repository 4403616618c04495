from django.apps import AppConfig


class HelpcenterConfig(AppConfig):
    name = "apps.helpcenter"
    label = "helpcenter"
    verbose_name = "Help center"

    def ready(self):
        from apps.connectors.webform.extensions import page_include_register
        from apps.reports.tables import table_register

        from .report import DEFLECTION_TABLE

        # The web form suggests articles as the visitor types (deflection); the reports list the rate.
        page_include_register("helpcenter/_webform_suggestions.html")
        table_register(DEFLECTION_TABLE)
