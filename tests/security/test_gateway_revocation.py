"""Issue 10 finding 8, the gateway's part: a sign-in revoked at its issuer (here: the dev IdP's RFC 7009
revocation of a refresh-token family) is refused by the gateway, which asks the issuer's RFC 7662
introspection endpoint; an issuer that cannot be asked means no access (fail closed)."""

from __future__ import annotations

import httpx
import pytest

from auth.errors import AuthenticationError
from auth.resource_server import ResourceServer, TrustedIssuer
from auth.revocation import Introspection
from gateway.settings import SettingsError, settings_from_mapping
from tests.security.servers import serve_factory
from tests.security.test_idp_protections import code_tokens

AUDIENCE = "urn:kyodo:gateway"
SECRET_ENV = "KYODO_TEST_GATEWAY_INTROSPECTION_SECRET"


@pytest.fixture
def idp(tmp_path):
    from auth.idp.app import create_idp_app

    with serve_factory(lambda url: create_idp_app(url, state_dir=tmp_path, admin_token="t")) as served:
        yield served


def _server(issuer: str, endpoint: str, check_seconds: float = 0.0) -> ResourceServer:
    return ResourceServer([TrustedIssuer(issuer, (AUDIENCE,), introspection=Introspection(
        endpoint, "kyodo-gateway", SECRET_ENV, check_seconds))])


async def test_a_revoked_sign_in_is_refused_by_the_gateway(idp, monkeypatch):
    issuer, _ = idp
    monkeypatch.setenv(SECRET_ENV, "kyodo-gateway-dev-secret")
    server = _server(issuer, f"{issuer}/introspect")
    async with httpx.AsyncClient(timeout=10) as http:
        tokens, _, _ = await code_tokens(http, issuer)
        try:
            principal = await server.validate(tokens["access_token"])
            assert principal.subject
            # the resident signs out (or a stolen refresh token was reused): the whole family is revoked
            revoked = await http.post(f"{issuer}/revoke", data={"token": tokens["refresh_token"],
                                                                "token_type_hint": "refresh_token",
                                                                "client_id": "kyodo-web"})
            assert revoked.status_code == 200
            with pytest.raises(AuthenticationError, match="revoked"):
                await server.validate(tokens["access_token"])
        finally:
            await server.close()


async def test_without_introspection_the_same_token_stays_valid_until_it_expires(idp):
    issuer, _ = idp
    server = ResourceServer([TrustedIssuer(issuer, (AUDIENCE,))])
    async with httpx.AsyncClient(timeout=10) as http:
        tokens, _, _ = await code_tokens(http, issuer)
        await http.post(f"{issuer}/revoke", data={"token": tokens["refresh_token"], "client_id": "kyodo-web"})
        try:
            assert (await server.validate(tokens["access_token"])).subject   # what introspection is for
        finally:
            await server.close()


async def test_an_issuer_that_cannot_be_asked_means_no_access(idp, monkeypatch):
    issuer, _ = idp
    monkeypatch.setenv(SECRET_ENV, "wrong-secret")       # the IdP answers 401: no usable answer
    server = _server(issuer, f"{issuer}/introspect")
    async with httpx.AsyncClient(timeout=10) as http:
        tokens, _, _ = await code_tokens(http, issuer)
    try:
        with pytest.raises(AuthenticationError, match="could not confirm"):
            await server.validate(tokens["access_token"])
    finally:
        await server.close()


def test_the_settings_refuse_introspection_without_its_secret(monkeypatch):
    monkeypatch.delenv("KYODO_GATEWAY_INTROSPECTION_SECRET", raising=False)
    issuer = {"issuer": "https://idp.example", "audience": AUDIENCE,
              "introspection": {"endpoint": "https://idp.example/introspect"}}
    with pytest.raises(SettingsError, match="KYODO_GATEWAY_INTROSPECTION_SECRET"):
        settings_from_mapping({"auth": {"issuers": [issuer]}})
    monkeypatch.setenv("KYODO_GATEWAY_INTROSPECTION_SECRET", "s")
    (trusted,) = settings_from_mapping({"auth": {"issuers": [issuer]}}).auth.trusted_issuers()
    assert trusted.introspection == Introspection("https://idp.example/introspect", "kyodo-gateway",
                                                  "KYODO_GATEWAY_INTROSPECTION_SECRET", 30.0)


async def test_a_pooled_connection_the_issuer_closed_is_asked_again_on_a_new_one(monkeypatch):
    """The issuer closes an idle kept-alive connection just as the gateway reuses it (uvicorn closes idle
    connections after 5 s): the request on it dies unanswered, and the introspection is sent once more on a new
    connection instead of refusing a valid sign-in."""
    import asyncio

    import aiohttp

    from auth.revocation import ensure_active

    answered = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests_on_this_connection = 0
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            await reader.readexactly(length)
            requests_on_this_connection += 1
            if requests_on_this_connection == 2:   # the second request on a kept connection: closed unanswered
                writer.close()
                return
            body = b'{"active": true}'
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
            answered.append(requests_on_this_connection)

    monkeypatch.setenv(SECRET_ENV, "s")
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    introspection = Introspection(f"http://127.0.0.1:{port}/introspect", "kyodo-gateway", SECRET_ENV, 0.0)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit_per_host=1)) as session:
            await ensure_active(session, introspection, "first")
            await ensure_active(session, introspection, "second")   # reuses the connection the server then closes
        assert answered == [1, 1]   # both answered, each as the first request of its own connection
    finally:
        server.close()
        await server.wait_closed()
