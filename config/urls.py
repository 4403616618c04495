from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.connectors.registry import webhook_urlpatterns
from apps.helpcenter import views as helpcenter_views

urlpatterns = [
    path("admin/", admin.site.urls),
    # Each channel's webhooks (each verifies the provider's signature or token) and public pages,
    # at the prefixes its channel.py declares: /api/inbound/, /hooks/twitter/, /f/ ...
    *webhook_urlpatterns(),
    path("api/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script from ?script= instead of inline (script-src 'self').
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("robots.txt", helpcenter_views.robots_txt, name="robots-txt"),  # crawl the help center only
    path("help/", include("apps.helpcenter.urls")),  # the public help center (no login; docs/helpcenter.md)
    path("desk/help/", include("apps.helpcenter.desk_urls")),  # writing articles (desk users)
    path("csat/", include("apps.csat.urls")),  # the customer's rating page (public, a survey's token)
    path("console/", include("apps.connectors.console_urls")),  # the admins' channel console
    path("desk/sla/", include("apps.sla.urls")),  # supervisors: calendars and SLA policies
    path("desk/routing/", include("apps.routing.urls")),  # supervisors: the priority rules page
    path("demo/", include("apps.demo.urls")),  # the simulated customer's mail (make run's demo only; 404 elsewhere)
    # The desk's JavaScript strings in the request's language, as a same-origin script (CSP script-src 'self').
    # Only the project's catalog (locale/, always included) and Django's own: not every app's (the admin's).
    path("jsi18n/", JavaScriptCatalog.as_view(domain="djangojs", packages=["apps.core"]), name="javascript-catalog"),
    path("", include("apps.accounts.urls")),  # /profile/, the admin's team pages, set-password and reset
    # The admin's console (admins only): audit log, outgoing webhooks, data protection.
    path("", include("apps.audit.urls")),
    path("", include("apps.integrations.urls")),
    path("", include("apps.crm.urls")),
    path("", include("apps.reports.urls")),  # /reports/, /reports/wallboard/ (supervisors and admins)
    path("", include("apps.inbox.urls")),  # the desk pages: /, /login/, /logout/
]
