"""format_html for the hot paths: the same escaping, without its per-argument lazy-string checks.

Django's format_html runs every argument through keep_lazy and conditional_escape, which
costs more than the formatting itself when a page writes a hundred small fragments (the
queue's rows, every `when` on the brief). `markup` escapes as they do (html.escape, quotes
included; values with __html__, like SafeString, are trusted) and marks the result safe.
Lazy translation strings are not expected here: pass str().
"""

from html import escape

from django.utils.safestring import SafeString


def _escaped(value) -> str:
    html = getattr(value, "__html__", None)
    return html() if html is not None else escape(str(value))


def markup(template: str, /, *args, **kwargs) -> SafeString:
    """`template` (trusted) with each value escaped, as format_html(template, *args, **kwargs)."""
    return SafeString(
        template.format(*[_escaped(a) for a in args], **{name: _escaped(v) for name, v in kwargs.items()})
    )
