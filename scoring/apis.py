"""REST API v1 for the qualified-lead definition: versions, sign-off, discussion, diff,
preview, and a lead's score with its explanation.

Same permissions as the pages: every role reads the definition and takes part
(drafts, edits, proposals, comments, previews); marketing, reps and managers sign
off. A preview names pool leads only to marketing and admins, and a lead's score is
fetched through leads.selectors.lead_get_for_user, so a rep gets a 404 for a pool
lead or another rep's lead. Domain refusals are ApplicationError (400/403) and
ConflictError (409); a refused edit's 409 also carries the other person's changes.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasRole
from leadhandoff.api import ApplicationError, validated
from leadhandoff.pagination import ApiPagination
from leadhandoff.parsers import text_fault
from leads.selectors import lead_get_for_user

from . import selectors, services
from .models import Approval, Comment, DefinitionVersion, Preview
from .rejections import rejections_for_user

READERS = services.PARTICIPANT_ROLES
SIGNERS = services.SIGNOFF_ROLES


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")
    role = serializers.CharField()


class ApprovalOutputSerializer(serializers.ModelSerializer):
    user = UserRefSerializer()

    class Meta:
        model = Approval
        fields = ["id", "user", "side", "revision", "created_at", "withdrawn_at"]


class VersionOutputSerializer(serializers.ModelSerializer):
    """A version as every definition endpoint returns it."""

    author = UserRefSerializer(allow_null=True)
    based_on = serializers.SerializerMethodField()
    approvals = serializers.SerializerMethodField()
    signoff = serializers.SerializerMethodField()

    class Meta:
        model = DefinitionVersion
        fields = [
            "id",
            "number",
            "title",
            "state",
            "rules",
            "threshold",
            "revision",
            "based_on",
            "author",
            "created_at",
            "updated_at",
            "proposed_at",
            "activated_at",
            "retired_at",
            "approvals",
            "signoff",
        ]

    def _live(self, version: DefinitionVersion) -> list[Approval]:
        if hasattr(version, "live_approvals"):
            return version.live_approvals
        return list(version.approvals.filter(withdrawn_at__isnull=True).select_related("user"))

    def get_based_on(self, version: DefinitionVersion) -> dict | None:
        base = version.based_on
        return {"id": base.pk, "number": base.number} if base else None

    def get_approvals(self, version: DefinitionVersion) -> list[dict]:
        """Live approvals (withdrawn ones are in the thread)."""
        return ApprovalOutputSerializer(self._live(version), many=True).data

    def get_signoff(self, version: DefinitionVersion) -> dict:
        return services.signoff_status(self._live(version))


class PreviewOutputSerializer(serializers.ModelSerializer):
    version_number = serializers.IntegerField(source="version.number")
    data = serializers.SerializerMethodField()

    class Meta:
        model = Preview
        fields = ["id", "version", "version_number", "revision", "state", "progress", "error", "data"]
        fields += ["created_at", "finished_at"]

    def get_data(self, preview: Preview) -> dict:
        """Figures; the lists of pool leads that would move are left out for sales."""
        return selectors.preview_data_for_user(preview=preview, user=self.context["request"].user)


def _version(version_id: int) -> DefinitionVersion:
    return selectors.version_get(version_id=version_id)


def _version_response(version: DefinitionVersion, code: int = status.HTTP_200_OK) -> Response:
    return Response(VersionOutputSerializer(selectors.version_get(version_id=version.pk)).data, status=code)


def _rules_clean(value):
    """Rules with no text PostgreSQL cannot store (NUL, lone surrogates), whichever parser read them."""
    fault = text_fault(value, "rules")
    if fault:
        raise serializers.ValidationError(fault[1] if fault[0] == "rules" else f"{fault[0]}: {fault[1]}")
    return value


class _DefinitionApi(APIView):
    permission_classes = [HasRole(*READERS)]


class VersionListApi(_DefinitionApi):
    """GET: every version, newest first (paginated). POST: start a new draft."""

    pagination_class = ApiPagination  # read by the schema: the list is documented as pages

    OutputSerializer = VersionOutputSerializer

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DefinitionVersionCreateInput"

        title = serializers.CharField(max_length=services.TITLE_MAX, required=False, allow_blank=True, default="")
        threshold = serializers.IntegerField(required=False, default=50)
        rules = serializers.JSONField(required=False, default=list)

        def validate_rules(self, value):
            return _rules_clean(value)

        based_on = serializers.IntegerField(required=False, allow_null=True, default=None)

    @extend_schema(responses={200: VersionOutputSerializer(many=True)})
    def get(self, request):
        paginator = ApiPagination()
        page = paginator.paginate_queryset(selectors.versions_list(), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: VersionOutputSerializer})
    def post(self, request):
        data = validated(self.InputSerializer(data=request.data))
        based_on = _version(data["based_on"]) if data["based_on"] else None
        version = services.definition_draft_create(
            actor=request.user,
            now=timezone.now(),
            rules=data["rules"],
            threshold=data["threshold"],
            title=data["title"],
            based_on=based_on,
        )
        return _version_response(version, status.HTTP_201_CREATED)


class VersionDetailApi(_DefinitionApi):
    """GET: one version. PATCH: edit it, giving the `revision` you edited (409 if it moved on)."""

    OutputSerializer = VersionOutputSerializer

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DefinitionVersionUpdateInput"

        revision = serializers.IntegerField(help_text="The revision you loaded; a stale one is a 409 conflict.")
        title = serializers.CharField(max_length=services.TITLE_MAX, required=False, allow_blank=True)
        threshold = serializers.IntegerField(required=False)
        rules = serializers.JSONField(required=False)

        def validate_rules(self, value):
            return _rules_clean(value)

    class ConflictSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DefinitionVersionConflict"

        detail = serializers.CharField()
        fields = serializers.DictField()
        changed_by = serializers.CharField()
        changes = serializers.ListField(child=serializers.DictField())
        current = VersionOutputSerializer()

    @extend_schema(responses={200: VersionOutputSerializer})
    def get(self, request, version_id: int):
        return Response(self.OutputSerializer(_version(version_id)).data)

    @extend_schema(request=InputSerializer, responses={200: VersionOutputSerializer, 409: ConflictSerializer})
    def patch(self, request, version_id: int):
        version = _version(version_id)
        data = validated(self.InputSerializer(data=request.data))
        try:
            version = services.definition_update(
                version=version,
                rules=data.get("rules", version.rules),
                threshold=data.get("threshold", version.threshold),
                title=data.get("title", version.title),
                revision=data["revision"],
                actor=request.user,
                now=timezone.now(),
            )
        except services.DefinitionConflictError as exc:
            body = {
                "detail": exc.message,
                "fields": exc.fields,
                "changed_by": exc.changed_by,
                "changes": exc.changes,
                "current": VersionOutputSerializer(selectors.version_get(version_id=version.pk)).data,
            }
            return Response(body, status=status.HTTP_409_CONFLICT)
        return _version_response(version)


class ActiveVersionApi(_DefinitionApi):
    """The version every lead is scored with now (404 while none is active)."""

    @extend_schema(responses={200: VersionOutputSerializer})
    def get(self, request):
        active = selectors.active_version()
        if active is None:
            raise ApplicationError("No definition version is active yet.", status_code=404)
        return Response(VersionOutputSerializer(active).data)


class VersionProposeApi(_DefinitionApi):
    """Put a draft up for sign-off."""

    @extend_schema(request=None, responses={200: VersionOutputSerializer})
    def post(self, request, version_id: int):
        version = services.definition_propose(version=_version(version_id), actor=request.user, now=timezone.now())
        return _version_response(version)


class VersionApproveApi(APIView):
    """Approve a proposed version for your side; the second side's approval activates it."""

    permission_classes = [HasRole(*SIGNERS)]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DefinitionVersionApproveInput"

        revision = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text="The revision you reviewed; if the version was edited since, the approval is refused (409).",
        )

    @extend_schema(request=InputSerializer, responses={200: VersionOutputSerializer})
    def post(self, request, version_id: int):
        data = validated(self.InputSerializer(data=request.data))
        version = _version(version_id)
        services.definition_approve(version=version, actor=request.user, now=timezone.now(), revision=data["revision"])
        return _version_response(version)


class VersionCopyApi(_DefinitionApi):
    """Start a new draft copied from this version (based_on it)."""

    @extend_schema(request=None, responses={201: VersionOutputSerializer})
    def post(self, request, version_id: int):
        draft = services.version_copy_as_draft(version=_version(version_id), actor=request.user, now=timezone.now())
        return _version_response(draft, status.HTTP_201_CREATED)


class VersionCommentsApi(_DefinitionApi):
    """GET: the thread (comments and events, oldest first). POST: add a comment."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DefinitionCommentInput"

        body = serializers.CharField(max_length=services.COMMENT_MAX)

    class OutputSerializer(serializers.ModelSerializer):
        author = UserRefSerializer(allow_null=True)

        class Meta:
            ref_name = "DefinitionComment"
            model = Comment
            fields = ["id", "kind", "author", "body", "data", "created_at"]

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request, version_id: int):
        thread = selectors.version_thread(version=_version(version_id))
        return Response(self.OutputSerializer(thread, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, version_id: int):
        data = validated(self.InputSerializer(data=request.data))
        comment = services.definition_comment(
            version=_version(version_id), actor=request.user, body=data["body"], now=timezone.now()
        )
        return Response(self.OutputSerializer(comment).data, status=status.HTTP_201_CREATED)


class VersionDiffApi(_DefinitionApi):
    """What changes from version `other_id` to version `version_id`, rule by rule."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DefinitionDiff"

        from_version = serializers.IntegerField()
        to_version = serializers.IntegerField()
        changes = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request, version_id: int, other_id: int):
        version, other = _version(version_id), _version(other_id)
        changes = services.definition_diff(other, version)
        return Response(
            self.OutputSerializer({"from_version": other.number, "to_version": version.number, "changes": changes}).data
        )


class VersionPreviewApi(_DefinitionApi):
    """Start a preview of this version against the active one (202; poll the preview)."""

    @extend_schema(request=None, responses={202: PreviewOutputSerializer})
    def post(self, request, version_id: int):
        preview = services.preview_request(version=_version(version_id), actor=request.user, now=timezone.now())
        body = PreviewOutputSerializer(preview, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class PreviewDetailApi(_DefinitionApi):
    """A preview's state, progress and, when done, its figures."""

    @extend_schema(responses={200: PreviewOutputSerializer})
    def get(self, request, preview_id: int):
        preview = selectors.preview_get(preview_id=preview_id)
        return Response(PreviewOutputSerializer(preview, context={"request": request}).data)


class LeadScoreApi(APIView):
    """A lead's stored score against the active version, with the rules that fired."""

    permission_classes = [HasRole(*READERS)]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LeadScore"

        lead_id = serializers.IntegerField(source="id")
        score = serializers.IntegerField(allow_null=True)
        fit_score = serializers.IntegerField(allow_null=True)
        behaviour_score = serializers.IntegerField(allow_null=True)
        passes_gates = serializers.BooleanField(allow_null=True)
        qualifies = serializers.SerializerMethodField()
        scored_version = serializers.IntegerField(allow_null=True)
        scored_at = serializers.DateTimeField(allow_null=True)
        explanation = serializers.JSONField(source="score_explanation")
        promoted_version = serializers.IntegerField(allow_null=True)
        promotion_explanation = serializers.JSONField()

        def get_qualifies(self, lead) -> bool | None:
            return (lead.score_explanation or {}).get("qualifies")

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request, lead_id: int):
        lead = lead_get_for_user(user=request.user, lead_id=lead_id, with_score=True)
        return Response(self.OutputSerializer(lead).data)


class VersionRejectionsApi(_DefinitionApi):
    """Rejections of the leads this version promoted: by reason, and each rule's share among rejected
    against accepted promotions (scoring.rejections). Sales get counts rounded by figure_for_sales."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DefinitionRejections"

        version = serializers.IntegerField()
        rejected = serializers.IntegerField(allow_null=True)
        accepted = serializers.IntegerField()
        by_reason = serializers.DictField(child=serializers.IntegerField(allow_null=True))
        rules = serializers.ListField(child=serializers.DictField())
        rounded = serializers.BooleanField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request, version_id: int):
        version = _version(version_id)
        data = rejections_for_user(version=version.number, user=request.user)
        return Response(self.OutputSerializer(data).data)
