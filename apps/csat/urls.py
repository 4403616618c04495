"""The public rating page (config/urls.py mounts it at /csat/)."""
from django.urls import path

from . import views

app_name = "csat"
urlpatterns = [
    path("<str:token>/", views.survey_page, name="survey"),
]
