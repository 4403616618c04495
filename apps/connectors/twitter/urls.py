"""Webhook / public URLs of the twitter channel (included from config/urls.py)."""
from django.urls import path

from . import views

urlpatterns = [
    path("<int:account_id>/", views.webhook, name="twitter-webhook"),
]
