from django.urls import path

from . import views

urlpatterns = [
    path("", views.sla_home, name="sla-home"),
    path("calendars/new/", views.calendar_edit, name="sla-calendar-new"),
    path("calendars/<int:calendar_id>/", views.calendar_edit, name="sla-calendar"),
    path("policies/new/", views.policy_edit, name="sla-policy-new"),
    path("policies/<int:policy_id>/", views.policy_edit, name="sla-policy"),
]
