"""The member's own pages (no staff login): mounted at the site's root by loyalty/urls.py."""

from django.urls import path

from . import views_portal as views

app_name = "member_portal"

urlpatterns = [
    path("j/<slug:slug>/login/", views.login, name="login"),
    path("j/<slug:slug>/login/code/", views.login_code, name="login_code"),
    path("c/<str:token>/details/", views.details, name="details"),
    path("c/<str:token>/delete/", views.delete, name="delete"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("u/<str:token>/undo/", views.unsubscribe_undo, name="unsubscribe_undo"),
]
