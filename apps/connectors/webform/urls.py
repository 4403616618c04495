"""Webhook / public URLs of the webform channel (included from config/urls.py)."""

urlpatterns = []
