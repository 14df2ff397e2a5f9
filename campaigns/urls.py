from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("segments/", views.segment_list, name="segments"),
    path("segments/new/", views.segment_edit, name="segment_create"),
    path("segments/count/", views.segment_count_view, name="segment_count"),
    path("segments/presets/", views.segment_preset, name="segment_preset"),
    path("segments/<int:pk>/", views.segment_edit, name="segment_edit"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="segment_delete"),
]
