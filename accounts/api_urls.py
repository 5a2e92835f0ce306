from django.urls import path

from . import apis

urlpatterns = [
    path("auth/token/", apis.TokenCreateApi.as_view(), name="api-token"),
    path("me/working-hours/", apis.MyScheduleApi.as_view(), name="api-my-schedule"),
]
