from django.urls import path

from . import views, views_survey

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("new/", views.campaign_edit, name="campaign_create"),
    path("<int:pk>/", views.campaign_detail, name="campaign"),
    path("<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("<int:pk>/send/", views.campaign_start_view, name="campaign_start"),
    path("<int:pk>/cancel/", views.campaign_cancel_view, name="campaign_cancel"),
    path("dashboard/", views.kpi_campaigns, name="kpi_campaigns"),
    path("dashboard/nps/", views_survey.kpi_nps, name="kpi_nps"),
    path("segments/", views.segment_list, name="segments"),
    path("segments/new/", views.segment_edit, name="segment_create"),
    path("segments/count/", views.segment_count_view, name="segment_count"),
    path("segments/presets/", views.segment_preset, name="segment_preset"),
    path("segments/<int:pk>/", views.segment_edit, name="segment_edit"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="segment_delete"),
]
