"""Webhook / public URLs of the facebook channel (included from config/urls.py)."""

urlpatterns = []
