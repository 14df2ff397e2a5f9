"""Public pages for customers, under /j/<shop>/ (a short URL that fits on a poster)."""

from django.urls import path

from . import views_public

app_name = "public"

urlpatterns = [
    path("<slug:slug>/", views_public.signup, name="signup"),
    path("<slug:slug>/done/", views_public.signup_done, name="done"),
    path("<slug:slug>/manifest.webmanifest", views_public.manifest, name="manifest"),
]
