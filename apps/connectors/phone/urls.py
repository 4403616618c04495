"""Webhook / public URLs of the phone channel (included from config/urls.py)."""
from django.urls import path

from . import views

urlpatterns = [
    path("<int:account_id>/twilio/status/", views.twilio_status, name="phone-twilio-status"),
]
