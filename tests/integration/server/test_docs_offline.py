"""``/docs`` renders without the internet: every script, style sheet and icon its page
references is served by Chorus itself (Swagger UI from its packaged distribution), fetched
here from a real ``chorus serve`` over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.integration.server.served import ServedChorus


class _References(HTMLParser):
    """Every URL the page makes the browser load: scripts, style sheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in {"script", "img"} and found.get("src"):
            self.urls.append(str(found["src"]))
        if tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - 127.0.0.1
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedChorus]:
    server = ServedChorus(database_url, tmp_path_factory.mktemp("docs") / "serve.log")
    try:
        yield server
    finally:
        server.stop()


def test_every_asset_of_the_docs_page_is_served_by_chorus(served: ServedChorus) -> None:
    status, kind, page = fetch(f"{served.base_url}/docs")
    assert status == 200
    assert kind.startswith("text/html")
    parser = _References()
    parser.feed(page.decode())
    assert len(parser.urls) >= 4  # bundle, standalone preset, style sheet, icon
    expected = {
        ".js": "javascript",
        ".css": "text/css",
        ".png": "image/png",
    }
    for reference in parser.urls:
        url = urljoin(f"{served.base_url}/docs", reference)
        assert urlsplit(url).netloc == urlsplit(served.base_url).netloc, reference  # no CDN
        status, kind, body = fetch(url)
        assert status == 200, reference
        assert body, reference
        assert expected[Path(urlsplit(url).path).suffix] in kind, (reference, kind)
    assert b"SwaggerUIBundle(" in page


def test_the_openapi_document_is_at_docs_openapi_json(served: ServedChorus) -> None:
    status, kind, body = fetch(f"{served.base_url}/docs/openapi.json")
    assert status == 200
    assert "json" in kind
    document = json.loads(body)
    assert document["info"]["title"] == "Chorus API"
    assert "/health" in document["paths"]
    assert not any(path.startswith("/docs") for path in document["paths"])


def test_without_docs_there_are_no_assets_either(database_url: str, tmp_path: Path) -> None:
    server = ServedChorus(database_url, tmp_path / "serve.log", CHORUS_DOCS_ENABLED="false")
    try:
        assert fetch(f"{server.base_url}/docs")[0] == 404
        assert fetch(f"{server.base_url}/docs/swagger-ui/swagger-ui-bundle.js")[0] == 404
    finally:
        server.stop()
