from django.urls import path

from . import views

urlpatterns = [
    path("reports/", views.reports_page, name="reports"),
    path("reports/wallboard/", views.wallboard_page, name="wallboard"),
]
