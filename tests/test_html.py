"""leadhandoff.html.markup escapes as Django's format_html does."""

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from hypothesis import given
from hypothesis import strategies as st

from leadhandoff.html import markup

values = st.one_of(
    st.text(),
    st.sampled_from(["<script>", "a & b", '"quoted"', "it's", "&amp;", "<b>x</b>"]),
    st.integers(),
    st.none(),
    st.builds(mark_safe, st.sampled_from(["<em>safe</em>", "&nbsp;"])),
)


@given(values, values)
def test_markup_writes_what_format_html_writes(first, second):
    template = '<a title="{}" data-x="{other}">{}</a>'
    expected = format_html(template, first, second, other=first)
    result = markup(template, first, second, other=first)
    assert result == expected
    assert isinstance(result, SafeString)
