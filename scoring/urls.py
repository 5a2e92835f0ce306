from django.urls import path

from . import views

app_name = "scoring"

urlpatterns = [
    path("", views.definition, name="definition"),
    path("new/", views.version_create, name="version_create"),
    path("v/<int:version_id>/", views.version_detail, name="version_detail"),
    path("v/<int:version_id>/edit/", views.version_edit, name="version_edit"),
    path("v/<int:version_id>/propose/", views.version_propose, name="version_propose"),
    path("v/<int:version_id>/approve/", views.version_approve, name="version_approve"),
    path("v/<int:version_id>/copy/", views.version_copy, name="version_copy"),
    path("v/<int:version_id>/comments/", views.version_comment, name="version_comment"),
    path("v/<int:version_id>/diff/<int:other_id>/", views.version_diff, name="version_diff"),
    path("v/<int:version_id>/preview/", views.version_preview, name="version_preview"),
    path("preview/<int:preview_id>/", views.preview_status, name="preview_status"),
    path("rescore/", views.rescore_status, name="rescore_status"),
    path("rescore/<int:rescore_id>/run-again/", views.rescore_run_again, name="rescore_run_again"),
]
