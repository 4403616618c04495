"""Webhook / public URLs of the phone channel (included from config/urls.py)."""

urlpatterns = []
