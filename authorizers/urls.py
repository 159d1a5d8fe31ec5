from django.urls import path

from . import views

app_name = "authorizers"

urlpatterns = [
    path("<str:invite>/", views.authorize_landing, name="landing"),
    path("<str:invite>/start/", views.authorize_start, name="start"),
    path("<str:invite>/callback/", views.authorize_callback, name="callback"),
    path("<str:invite>/result/<str:appid>/", views.authorize_result, name="result"),
]
