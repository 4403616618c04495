"""The REST API under /api/ (the inbound channel endpoint lives in config/urls.py)."""
urlpatterns = []
