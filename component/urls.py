from django.urls import path

from . import views

app_name = "component"

urlpatterns = [
    path("events/", views.component_events, name="events"),
]
