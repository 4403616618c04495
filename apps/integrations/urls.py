from django.urls import path

from . import views

urlpatterns = [
    path("integrations/webhooks/", views.webhooks, name="webhooks"),
    path("integrations/webhooks/<int:webhook_id>/", views.webhook, name="webhook"),
    path("integrations/webhooks/<int:webhook_id>/resume/", views.webhook_resume, name="webhook-resume"),
    path("integrations/webhooks/<int:webhook_id>/rotate-secret/", views.webhook_rotate, name="webhook-rotate"),
    path("integrations/webhooks/<int:webhook_id>/delete/", views.webhook_delete, name="webhook-delete"),
    path("integrations/deliveries/<int:delivery_id>/resend/", views.delivery_resend, name="webhook-delivery-resend"),
]
