"""/api/reports/..., included from config/api_urls.py."""
from django.urls import path

from . import api

urlpatterns = [
    path("reports/wallboard/", api.WallboardView.as_view(), name="api-reports-wallboard"),
    path("reports/topics/", api.TopicsReportView.as_view(), name="api-reports-topics"),
    *[path(f"reports/{slug}/", view.as_view(), name=f"api-reports-{slug}") for slug, view in api.REPORT_VIEWS.items()],
]
