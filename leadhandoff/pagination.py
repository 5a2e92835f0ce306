"""The API's one pagination: page numbers, 50 a page by default, at most 200.

Paging parameters are checked, not guessed: DRF falls back to the default page
size for `page_size=abc` or `page_size=null`, so a typo silently returned
another page than asked for. Here they answer 400 naming the parameter.
"""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class ApiPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if (
            raw is not None
            and raw not in self.last_page_strings
            and not (raw.isascii() and raw.isdigit() and int(raw) >= 1)
        ):
            raise ValidationError({self.page_query_param: ["Give a page number from 1 on."]})
        return super().paginate_queryset(queryset, request, view=view)
