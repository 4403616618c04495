"""The API channel's inbound URL (mounted at /api/inbound/ by config/urls.py, from channel.py)."""
from django.urls import path

from .views import InboundApiView

urlpatterns = [
    path("<int:account_id>/", InboundApiView.as_view(), name="api-inbound"),
]
