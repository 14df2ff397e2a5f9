"""Public pages for customers that show the program's rules, next to members' /j/<shop>/ pages."""

from django.urls import path

from . import views_public

app_name = "public_rules"

urlpatterns = [
    path("<slug:slug>/how/", views_public.how_it_works, name="how"),
]
