from django.urls import path

from . import views

urlpatterns = [
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/customers/<int:customer_id>/", views.privacy_customer, name="privacy-customer"),
    path("privacy/customers/<int:customer_id>/export/", views.privacy_export, name="privacy-export"),
]
