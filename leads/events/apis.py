"""REST API v1 for events imports: upload a CSV with its mapping (a job), then read the job.

Marketing and admins only (403 for sales). A bad file or mapping is a 400 naming the field.
"""

import json

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import MARKETING_SIDE, HasRole
from leadhandoff.api import ApplicationError, ErrorSerializer, validated

from . import selectors, services


class EventImportOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "EventImport"

    id = serializers.IntegerField()
    state = serializers.CharField()
    progress = serializers.IntegerField()
    original_name = serializers.CharField()
    mapping = serializers.DictField()
    total_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    stored_count = serializers.IntegerField(help_text="Events newly stored.")
    duplicate_count = serializers.IntegerField(help_text="Events already stored (a file imported again).")
    leads_created = serializers.IntegerField()
    rejected_count = serializers.IntegerField()
    rejections = serializers.ListField(child=serializers.DictField())
    error = serializers.CharField()


class EventImportCreateApi(APIView):
    permission_classes = [HasRole(*MARKETING_SIDE)]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        mapping = serializers.CharField(help_text="The mapping as JSON (see the README's events import).")

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={202: EventImportOutputSerializer, 400: OpenApiResponse(ErrorSerializer)},
    )
    def post(self, request):
        data = validated(self.InputSerializer(data=request.data))
        try:
            mapping = json.loads(data["mapping"])
        except ValueError:
            raise ApplicationError(
                "The mapping is not JSON.", fields={"mapping": ["Give the mapping as JSON."]}
            ) from None
        upload = data["file"]
        job = services.event_import_create(name=upload.name, data=upload.read(), mapping=mapping, actor=request.user)
        return Response(EventImportOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class EventImportDetailApi(APIView):
    permission_classes = [HasRole(*MARKETING_SIDE)]

    @extend_schema(responses={200: EventImportOutputSerializer})
    def get(self, request, job_id: int):
        return Response(EventImportOutputSerializer(selectors.event_import_get(job_id=job_id)).data)
