"""The console's sign-up poster (managers and owners): a namespace of its own, beside members'."""

from django.urls import path

from . import views_poster

app_name = "poster"

urlpatterns = [
    path("", views_poster.poster_page, name="page"),
    path("poster.pdf", views_poster.poster_pdf, name="pdf"),
    path("qr.png", views_poster.poster_png, name="png"),
]
