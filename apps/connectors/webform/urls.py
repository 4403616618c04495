"""Public pages of the web-form channel (included from config/urls.py at /f/)."""
from django.urls import path

from . import views

app_name = "webform"

urlpatterns = [
    path("<slug:slug>/", views.form_page, name="form"),
    path("<slug:slug>/thanks/", views.thanks_page, name="thanks"),
]
