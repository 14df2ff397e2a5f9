from django.urls import path

from . import views, views_kpi

app_name = "members"

urlpatterns = [
    path("", views.member_list, name="list"),
    path("new/", views.member_create, name="create"),
    path("cards/", views.card_list, name="cards"),
    path("cards/new/", views.card_batch_create, name="card_batch"),
    path("cards/print/<str:batch>/", views.card_print, name="card_print"),
    path("<int:pk>/erase/", views.personal_data_erase, name="erase"),
    path("<int:pk>/data.json", views.member_data_export, {"fmt": "json"}, name="data_json"),
    path("<int:pk>/data.csv", views.member_data_export, {"fmt": "csv"}, name="data_csv"),
    path("dashboard/enrolment/", views_kpi.kpi_enrolment, name="kpi_enrolment"),
]
