"""The GraphiQL playground is served from local files only, and really renders in a browser."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import pytest

from gateway.http import create_app
from gateway.http.playground.assets import ASSETS, DEFAULT_ASSETS_DIR, missing_assets
from gateway.settings import Settings
from tests.gateway_http.conftest import needs_playground_assets
from tests.gateway_http.servers import ThreadedServer

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
assets_fetched = needs_playground_assets


def test_missing_files_give_a_page_saying_how_to_fetch_them(make_client, tmp_path):
    response = make_client({"playground_assets_dir": str(tmp_path)}).get("/graphql", headers=HTML)
    assert response.status_code == 503
    assert "gateway.http.playground.fetch_assets" in response.text


def test_playground_can_be_switched_off(make_client):
    response = make_client({"playground": False}).get("/graphql", headers=HTML)
    assert response.headers["content-type"].startswith("application/json")
    assert response.status_code == 400


@assets_fetched
@pytest.mark.parametrize("path", ["/", "/graphql"])
def test_page_loads_everything_from_this_server(make_client, path):
    client = make_client()
    response = client.get(path, headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    sources = [s for s in re.findall(r'(?:src|href)="([^"]+)"', response.text) if not s.startswith("data:")]
    assert len(sources) == len(ASSETS)
    # the favicon is inline, so the browser asks for nothing else
    assert re.search(r'<link rel="icon" type="image/svg\+xml" href="data:image/svg\+xml,', response.text)
    for source in sources:
        assert source.startswith("/playground/static/"), source
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100
    assert "unpkg" not in response.text and "cdn" not in response.text.lower()


@assets_fetched
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_graphiql_renders_in_headless_chromium(supergraph):
    app = create_app(Settings(), supergraph)
    with ThreadedServer(app) as server, tempfile.TemporaryDirectory(prefix="kyodo-chromium-") as profile:
        completed = subprocess.run(
            [
                "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}",
                "--virtual-time-budget=15000", "--dump-dom", server.url + "/graphql",
            ],
            capture_output=True, text=True, timeout=120,
        )
    dom = completed.stdout
    # React replaced the placeholder with the IDE: the query editor and the run button exist.
    assert "graphiql-query-editor" in dom, completed.stderr[-2000:]
    assert "graphiql-execute-button" in dom
    assert "Loading the GraphQL playground" not in dom
