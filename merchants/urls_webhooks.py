from django.urls import path

from . import views_webhooks

app_name = "webhooks"

urlpatterns = [
    path("", views_webhooks.webhook_list, name="list"),
    path("<int:pk>/", views_webhooks.webhook_detail, name="detail"),
    path("<int:pk>/delete/", views_webhooks.webhook_delete, name="delete"),
    path("deliveries/<int:pk>/resend/", views_webhooks.delivery_resend, name="resend"),
]
