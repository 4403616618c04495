from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.connectors.api.views import InboundApiView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/inbound/<int:account_id>/", InboundApiView.as_view(), name="api-inbound"),
    path("api/", include("config.api_urls")),
    # Provider webhooks (each verifies the provider's signature) and public web forms.
    path("hooks/twitter/", include("apps.connectors.twitter.urls")),
    path("hooks/facebook/", include("apps.connectors.facebook.urls")),
    path("hooks/phone/", include("apps.connectors.phone.urls")),
    path("f/", include("apps.connectors.webform.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("apps.inbox.urls")),  # the desk pages: /, /login/, /logout/
]
