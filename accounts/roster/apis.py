"""The roster import endpoint (admins): POST a CSV file, get the per-row report."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasRole
from accounts.models import Role
from accounts.roster.services import ROSTER_MAX_BYTES, roster_file_read, roster_import
from leadhandoff.api import ApplicationError, ErrorSerializer, validated


class RosterImportApi(APIView):
    """Import a sales roster: one row per rep (rep name or email, manager, team, region).

    Any row with an error writes nothing: the answer is a 400 whose `fields` name
    each line ("line 3": [...]) or the file ("file": [...]). With `dry_run` the
    import is done and rolled back, and the report says what it would do.
    """

    permission_classes = [HasRole(Role.ADMIN)]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="CSV, UTF-8, comma or semicolon separated, with a header line.")
        dry_run = serializers.BooleanField(required=False, default=False)

        def validate_file(self, upload):
            if upload.size > ROSTER_MAX_BYTES:
                raise serializers.ValidationError(f"The file is over {ROSTER_MAX_BYTES // (1024 * 1024)} MB.")
            return upload

    class OutputSerializer(serializers.Serializer):
        class RowSerializer(serializers.Serializer):
            line = serializers.IntegerField()
            rep = serializers.CharField()
            email = serializers.CharField()
            username = serializers.CharField()
            team = serializers.CharField()
            region = serializers.CharField()
            manager = serializers.CharField()
            action = serializers.ChoiceField(choices=["create", "move", "update", "unchanged"])
            changes = serializers.ListField(child=serializers.CharField())

        class TeamSerializer(serializers.Serializer):
            name = serializers.CharField()
            region = serializers.CharField()
            manager = serializers.CharField()
            action = serializers.ChoiceField(choices=["create", "update", "unchanged"])
            changes = serializers.ListField(child=serializers.CharField())
            reps = serializers.IntegerField(help_text="Reps of the file on this team.")

        dry_run = serializers.BooleanField()
        summary = serializers.DictField(child=serializers.IntegerField())
        message = serializers.CharField(source="sentence")
        rows = RowSerializer(many=True)
        teams = TeamSerializer(many=True)
        managers_created = serializers.ListField(child=serializers.CharField())
        ignored_columns = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        request={"multipart/form-data": InputSerializer}, responses={200: OutputSerializer, 400: ErrorSerializer}
    )
    def post(self, request):
        data = validated(self.InputSerializer(data=request.data))
        upload = data["file"]
        csv_file = roster_file_read(data=upload.read(), name=upload.name or "the roster")
        report = roster_import(csv_file=csv_file, dry_run=data["dry_run"])
        if not report.ok:  # a dry run reports its errors the same way
            raise ApplicationError(report.sentence(), fields=report.error_fields())
        return Response(self.OutputSerializer(report).data)
