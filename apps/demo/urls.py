"""The demo's route (docs/demo.md): 404 outside the demo's processes (apps/demo/views.py)."""
from django.urls import path

from . import views

urlpatterns = [
    path("mail/<int:account_id>/", views.mail_drop, name="demo-mail"),
]
