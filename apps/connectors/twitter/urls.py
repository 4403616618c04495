"""Webhook / public URLs of the twitter channel (included from config/urls.py)."""

urlpatterns = []
