"""Webhook / public URLs of the facebook channel (included from config/urls.py)."""
from django.urls import path

from . import views

urlpatterns = [
    path("<int:account_id>/", views.webhook, name="facebook-webhook"),
]
