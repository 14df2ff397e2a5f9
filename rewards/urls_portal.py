"""The member's card page and data download (no staff login): mounted at the site's root."""

from django.urls import path

from . import views_portal as views

app_name = "portal"

urlpatterns = [
    path("c/", views.card_home, name="home"),
    path("c/<str:token>/", views.card, name="card"),
    path("c/<str:token>/my-data.json", views.data_export, {"fmt": "json"}, name="data_json"),
    path("c/<str:token>/my-data.csv", views.data_export, {"fmt": "csv"}, name="data_csv"),
]
