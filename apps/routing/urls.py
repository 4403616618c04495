from django.urls import path

from . import views

urlpatterns = [
    path("rules/", views.rules_page, name="routing-rules"),
    path("rules/<int:rule_id>/", views.rule_edit, name="routing-rule-edit"),
]
