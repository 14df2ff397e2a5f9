"""The member's survey page (no staff login, the signed link is the key): mounted at the site's root."""

from django.urls import path

from . import views_survey

app_name = "survey"

urlpatterns = [
    path("s/<str:token>/", views_survey.survey_answer, name="answer"),
]
