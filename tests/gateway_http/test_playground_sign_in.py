"""Playground sign-in against the dev IdP: off unless configured, and in real headless Chromium the
code + PKCE flow signs a resident in, GraphiQL sends the token, `{ me { id } }` answers them."""

from __future__ import annotations

import asyncio
import contextlib
import base64
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import pytest

from gateway.http.playground.assets import DEFAULT_ASSETS_DIR, missing_assets
from gateway.http.playground.page import playground_html
from gateway.http.playground.sign_in import ENV_CLIENT_ID, ENV_ISSUER, SignInConfig, sign_in_from_environment
from tests.gateway_http.conftest import NPM_MISSING, needs_playground_assets
from subgraphs.common.roster import by_label

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
TARO = by_label("himeji-1/taro")
CHROMIUM = shutil.which("chromium")


# -- configuration and the page -------------------------------------------------------------------

def test_sign_in_is_off_unless_an_issuer_is_configured():
    assert sign_in_from_environment({}) is None
    assert sign_in_from_environment({ENV_ISSUER: "  "}) is None
    assert sign_in_from_environment({ENV_ISSUER: "javascript:alert(1)"}) is None
    assert sign_in_from_environment({ENV_ISSUER: "127.0.0.1:4400"}) is None
    config = sign_in_from_environment({ENV_ISSUER: "http://127.0.0.1:4400/"})
    assert config == SignInConfig(issuer="http://127.0.0.1:4400", client_id="kyodo-web")
    assert sign_in_from_environment({ENV_ISSUER: "http://127.0.0.1:4400", ENV_CLIENT_ID: "other"}).client_id == "other"


def test_page_without_sign_in_has_no_control(monkeypatch):
    monkeypatch.delenv(ENV_ISSUER, raising=False)
    page = playground_html("/graphql")
    assert "kyodo-sign-in" not in page and "KyodoSignIn.start" not in page


def test_page_with_sign_in_embeds_the_config_safely():
    page = playground_html("/graphql", sign_in=SignInConfig(issuer="http://127.0.0.1:4400/</script><b>"))
    config = json.loads(re.search(r"KyodoSignIn\.start\((\{.*?\}), document", page).group(1).replace("<\\/", "</"))
    assert config["issuer"] == "http://127.0.0.1:4400/</script><b>" and config["clientId"] == "kyodo-web"
    assert "</script><b>" not in page                      # cannot close the script element
    assert 'id="kyodo-sign-in"' in page
    assert "sessionStorage.setItem(TOKEN_KEY" in page
    assert "localStorage.setItem" not in page and "document.cookie" not in page
    assert "code_challenge_method: \"S256\"" in page
    assert not re.search(r"<script[^>]+src=\"https?:", page)  # nothing from elsewhere


def test_gateway_serves_the_control_when_configured(make_client, monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_ISSUER, "http://127.0.0.1:4400")
    if NPM_MISSING and missing_assets(DEFAULT_ASSETS_DIR):
        pytest.skip("npm is not installed, so the playground files cannot be fetched")
    page = make_client().get("/graphql", headers=HTML)
    assert page.status_code == 200 and "KyodoSignIn.start" in page.text
    # The IdP sends the browser back to /graphql?code=…&state=…: that is the playground page too.
    back = make_client().get("/graphql?code=abc&state=xyz", headers=HTML)
    assert back.status_code == 200 and "KyodoSignIn.start" in back.text


# -- the real thing in headless Chromium ----------------------------------------------------------

class DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict:
        call_id = next(self.ids)
        await self.socket.send_json({"id": call_id, "method": method, "params": params})
        while True:
            message = await self.socket.receive_json(timeout=60)
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            return None  # e.g. the page is between documents
        return result["result"].get("value")

    async def wait_for(self, expression: str, what: str, timeout: float = 90) -> Any:
        deadline = time.monotonic() + timeout
        check = f"(() => {{ const value = ({expression}); return value instanceof Node ? true : value; }})()"
        while time.monotonic() < deadline:
            value = await self.evaluate(check)
            if value:
                return value
            await asyncio.sleep(0.25)
        state = await self.evaluate("location.href + ' | ' + document.body.innerText.slice(0, 500)")
        raise AssertionError(f"timed out waiting for {what}; page: {state}")


def start_chromium(profile: str) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--window-size=1280,800",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    port_file = Path(profile) / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if port_file.is_file() and port_file.read_text().strip():
            return process, int(port_file.read_text().splitlines()[0])
        time.sleep(0.1)
    stop_chromium(process)
    raise RuntimeError("chromium did not open its DevTools port")


def stop_chromium(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)   # its own session: the renderers go with it
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


@contextlib.asynccontextmanager
async def chromium_page() -> AsyncIterator[DevTools]:
    """A fresh headless Chromium (own profile) and a DevTools connection to its page; stopped after."""
    with tempfile.TemporaryDirectory(prefix="kyodo-chromium-") as profile:
        process, port = start_chromium(profile)
        try:
            async with aiohttp.ClientSession() as http:
                pages = await (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
                page = next(p for p in pages if p["type"] == "page")
                async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as socket:
                    devtools = DevTools(socket)
                    await devtools.call("Page.enable")
                    yield devtools
        finally:
            stop_chromium(process)


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
needs_assets = needs_playground_assets


@contextlib.contextmanager
def dev_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, access_token_lifetime: int = 300):
    """(gateway URL, issuer URL): dev IdP, a subgraph with `me`, and the production gateway wiring."""
    from auth.idp.app import create_idp_app
    from gateway.http.command import build_app
    from gateway.settings import settings_from_mapping
    from gateway.supergraph import load_supergraph
    from tests.security.counting_subgraph import CallLog, CountingApp, supergraph_sdl
    from tests.security.servers import serve_app, serve_factory

    key_file = tmp_path / "gateway-context-key.json"
    jwks_file = tmp_path / "gateway-context-jwks.json"
    idp = serve_factory(lambda url: create_idp_app(url, state_dir=tmp_path / "idp", admin_token="test-admin",
                                                   access_token_lifetime=access_token_lifetime))
    with idp as (issuer, _), serve_app(CountingApp(CallLog(), str(jwks_file))) as subgraph_url:
        settings = settings_from_mapping({"auth": {
            "issuers": [{"issuer": issuer, "audience": "urn:kyodo:gateway"}],
            "context_key_file": str(key_file),
        }})
        monkeypatch.setenv(ENV_ISSUER, issuer)  # what `kyodo dev` sets for its gateway
        app = build_app(settings, load_supergraph(supergraph_sdl(subgraph_url + "/graphql")))
        with serve_app(app) as gateway_url:
            yield gateway_url, issuer


@pytest.fixture
def signed_in_stack(tmp_path, monkeypatch):
    with dev_stack(tmp_path, monkeypatch) as stack:
        yield stack


STATUS = "document.querySelector('.kyodo-sign-in-status')"
BUTTON = "document.querySelector('#kyodo-sign-in button')"
TOKEN = "sessionStorage.getItem('kyodo.playground.accessToken')"
RESULT = "document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"


async def run_query(devtools: DevTools, query: str) -> dict:
    """Type the query into GraphiQL's editor, press run, and read the response pane."""
    await devtools.evaluate(f"document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
                            f".setValue({json.dumps(query)})")
    await devtools.evaluate(f"document.querySelector('.graphiql-response .CodeMirror').CodeMirror.setValue('')")
    await devtools.evaluate("document.querySelector('.graphiql-execute-button').click()")
    text = await devtools.wait_for(f"(() => {{ const t = {RESULT}; return t.includes('data') ? t : ''; }})()",
                                   "GraphiQL's response")
    return json.loads(text)


async def sign_in(devtools: DevTools, gateway_url: str, issuer: str, account_id: str) -> str:
    """Press Sign in, fill the dev IdP's form, wait until the playground shows the subject."""
    await devtools.evaluate(f"{BUTTON}.click()")
    await devtools.wait_for(f"location.href.startsWith({json.dumps(issuer + '/authorize')}) "
                            "&& document.querySelector('select[name=login]')", "the IdP's sign-in form")
    authorize = await devtools.evaluate("location.href")
    assert "code_challenge_method=S256" in authorize and "client_id=kyodo-web" in authorize
    await devtools.evaluate(
        f"document.querySelector('select[name=login]').value = {json.dumps(account_id)};"
        "document.querySelector('input[name=password]').value = 'kyodo-dev';"
        "document.querySelector('form').requestSubmit();"
    )
    return await devtools.wait_for(f"location.href.startsWith({json.dumps(gateway_url)}) "
                                   f"&& {STATUS} && {STATUS}.dataset.subject", "the playground signed in")


async def open_playground(devtools: DevTools, gateway_url: str) -> None:
    await devtools.call("Page.navigate", url=gateway_url + "/graphql")
    await devtools.wait_for(f"{BUTTON} && {BUTTON}.textContent === 'Sign in' "
                            "&& document.querySelector('.graphiql-execute-button')",
                            "the playground with a Sign in button")


@needs_chromium
@needs_assets
async def test_sign_in_in_headless_chromium_then_me_is_the_resident(signed_in_stack, tmp_path):
    gateway_url, issuer = signed_in_stack
    async with chromium_page() as devtools:
        await open_playground(devtools, gateway_url)

        anonymous = await run_query(devtools, "{ me { id } }")
        assert anonymous["data"]["me"] is None

        subject = await sign_in(devtools, gateway_url, issuer, TARO.id)
        assert subject == TARO.id
        status = await devtools.evaluate(f"{STATUS}.textContent")
        assert status.startswith(f"Signed in as {TARO.name} ({TARO.id} · resident, guardian · 282014")
        assert await devtools.evaluate("location.search") == ""       # the code left the address bar
        assert await devtools.evaluate(f"{BUTTON}.textContent") == "Sign out"
        assert await devtools.evaluate("localStorage.length === 0 || "
                                       "!Object.keys(localStorage).some(k => k.startsWith('kyodo'))")
        stored = await devtools.evaluate(TOKEN)
        assert stored and stored.count(".") == 2

        me = await run_query(devtools, "{ me { id } }")
        assert me["data"]["me"] == {"id": TARO.id}, me
        assert await devtools.evaluate(TOKEN) == stored   # far from expiry: not renewed

        screenshot = await devtools.call("Page.captureScreenshot", format="png")
        shot = tmp_path / "playground-signed-in.png"
        shot.write_bytes(base64.b64decode(screenshot["data"]))
        if os.environ.get("KYODO_PLAYGROUND_SCREENSHOT"):
            shutil.copy(shot, os.environ["KYODO_PLAYGROUND_SCREENSHOT"])

        await devtools.evaluate(f"{BUTTON}.click()")
        assert await devtools.evaluate(f"{BUTTON}.textContent") == "Sign in"
        assert await devtools.evaluate("sessionStorage.getItem('kyodo.playground.accessToken')") is None
        signed_out = await run_query(devtools, "{ me { id } }")
        assert signed_out["data"]["me"] is None


@needs_chromium
@needs_assets
async def test_failed_sign_ins_are_shown_and_leave_the_playground_signed_out(signed_in_stack, monkeypatch):
    gateway_url, _ = signed_in_stack
    failure = f"{STATUS} && {STATUS}.textContent.startsWith('Sign-in failed') && {STATUS}.textContent"
    token = "sessionStorage.getItem('kyodo.playground.accessToken')"
    async with chromium_page() as devtools:
        # An answer this tab never asked for (someone else's code: login CSRF) is not used.
        await devtools.call("Page.navigate", url=gateway_url + "/graphql?code=someone-elses&state=forged")
        message = await devtools.wait_for(failure, "the refused answer")
        assert "does not belong to a sign-in started in this tab" in message
        assert await devtools.evaluate("location.search") == "" and await devtools.evaluate(token) is None
        assert await devtools.evaluate(f"{BUTTON}.textContent") == "Sign in"

        # The IdP's own error answer is shown as it is.
        await devtools.call("Page.navigate", url=gateway_url + "/graphql?error=access_denied&state=x")
        assert "access_denied" in await devtools.wait_for(failure, "the IdP's error")

        # No IdP at the configured issuer: one clear line instead of a silent button.
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
        monkeypatch.setenv(ENV_ISSUER, dead)
        await devtools.call("Page.navigate", url=gateway_url + "/graphql")
        await devtools.wait_for(f"{BUTTON} && {BUTTON}.textContent === 'Sign in'", "the playground")
        await devtools.evaluate(f"{BUTTON}.click()")
        message = await devtools.wait_for(failure, "the unreachable IdP")
        assert f"the dev IdP does not answer at {dead}" in message


@needs_chromium
@needs_assets
async def test_a_token_near_expiry_is_renewed_with_the_in_memory_refresh_token(tmp_path, monkeypatch):
    # Access tokens live 20 s here, less than the page's 30 s renewal margin: every request renews.
    with dev_stack(tmp_path, monkeypatch, access_token_lifetime=20) as (gateway_url, issuer):
        async with chromium_page() as devtools:
            await open_playground(devtools, gateway_url)
            assert await sign_in(devtools, gateway_url, issuer, TARO.id) == TARO.id
            first = await devtools.evaluate(TOKEN)
            # The refresh token is in memory only: storage holds the access token and the name.
            assert await devtools.evaluate("Object.keys(sessionStorage).sort()") == [
                "kyodo.playground.accessToken", "kyodo.playground.name"]
            me = await run_query(devtools, "{ me { id } }")
            assert me["data"]["me"] == {"id": TARO.id}, me
            second = await devtools.evaluate(TOKEN)
            assert second and second != first
            me = await run_query(devtools, "{ me { id } }")   # the rotated refresh token works again
            assert me["data"]["me"] == {"id": TARO.id}, me
            assert await devtools.evaluate(TOKEN) not in (first, second)
