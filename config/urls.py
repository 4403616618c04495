from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.connectors.registry import webhook_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    # Each channel's webhooks (each verifies the provider's signature or token) and public pages,
    # at the prefixes its channel.py declares: /api/inbound/, /hooks/twitter/, /f/ ...
    *webhook_urlpatterns(),
    path("api/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script from ?script= instead of inline (script-src 'self').
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("apps.reports.urls")),  # /reports/, /reports/wallboard/ (supervisors and admins)
    path("", include("apps.inbox.urls")),  # the desk pages: /, /login/, /logout/
]
