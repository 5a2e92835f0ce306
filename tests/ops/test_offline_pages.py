"""The demo works with no internet: the API docs page takes Swagger UI from
our own static files (drf-spectacular-sidecar), and the admin carries the
app's inline favicon instead of sending the browser to a 404 /favicon.ico."""

import re
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html) + re.findall(
        r"""["'](https?://[^"']+)["']""", html
    )


def get(live_server, path: str) -> tuple[int, str]:
    connection = HTTPConnection(live_server.url.removeprefix("http://"), timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read().decode(errors="replace")


def test_the_api_docs_page_loads_swagger_ui_from_our_own_static_files(live_server):
    status, html = get(live_server, "/api/v1/docs/")
    assert status == 200
    refs = references(html)
    assert not [ref for ref in refs if re.match(r"(https?:)?//", ref)], refs
    assets = [ref for ref in refs if "swagger-ui" in ref]
    assert any(ref.endswith("swagger-ui-bundle.js") for ref in assets), refs
    assert any(ref.endswith("swagger-ui.css") for ref in assets), refs
    for ref in assets:
        assert get(live_server, ref)[0] == 200, ref


def test_the_admin_has_the_apps_inline_favicon(client, cast):
    client.force_login(cast.admin)
    admin_html = client.get("/admin/").content.decode()
    app_favicon = re.search(r'<link rel="icon"[^>]*>', (ROOT / "templates" / "base.html").read_text()).group(0)
    assert app_favicon in admin_html
    assert 'href="data:image/svg+xml' in app_favicon  # inline: no request the browser could get a 404 for
    assert client.get("/admin/accounts/user/").content.decode().count(app_favicon) == 1
