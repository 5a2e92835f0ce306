from django.urls import path

from . import apis

urlpatterns = [
    path(
        "definitions/versions/<int:version_id>/rejections/",
        apis.VersionRejectionsApi.as_view(),
        name="api-definition-version-rejections",
    ),
    path("definitions/versions/", apis.VersionListApi.as_view(), name="api-definition-versions"),
    path("definitions/versions/<int:version_id>/", apis.VersionDetailApi.as_view(), name="api-definition-version"),
    path(
        "definitions/versions/<int:version_id>/propose/",
        apis.VersionProposeApi.as_view(),
        name="api-definition-version-propose",
    ),
    path(
        "definitions/versions/<int:version_id>/approve/",
        apis.VersionApproveApi.as_view(),
        name="api-definition-version-approve",
    ),
    path(
        "definitions/versions/<int:version_id>/copy/", apis.VersionCopyApi.as_view(), name="api-definition-version-copy"
    ),
    path(
        "definitions/versions/<int:version_id>/comments/",
        apis.VersionCommentsApi.as_view(),
        name="api-definition-version-comments",
    ),
    path(
        "definitions/versions/<int:version_id>/diff/<int:other_id>/",
        apis.VersionDiffApi.as_view(),
        name="api-definition-version-diff",
    ),
    path(
        "definitions/versions/<int:version_id>/preview/",
        apis.VersionPreviewApi.as_view(),
        name="api-definition-version-preview",
    ),
    path("definitions/previews/<int:preview_id>/", apis.PreviewDetailApi.as_view(), name="api-definition-preview"),
    path("definitions/active/", apis.ActiveVersionApi.as_view(), name="api-definition-active"),
    path("leads/<int:lead_id>/score/", apis.LeadScoreApi.as_view(), name="api-lead-score"),
]
