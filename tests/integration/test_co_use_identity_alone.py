"""Issue 11 item 5 through the real gateway: identity co-used alone, and a municipality's own service linking
its accounts to it.

多可町 joins identity and nothing else. Its resident reads his identity data through the gateway; childcare,
currency and safety refuse with PLATFORM_NOT_JOINED. 多可町 registers its library as an OIDC client at the dev
IdP (`kyodo co-use register-client 283657 library`); the resident taps his card at the library's reader, and the
library links its own account id to him: audited, and only for 多可町's residents.
"""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import delete, select

from auth.idp.card_reader import tap_card
from kyodo.cli import main
from subgraphs.common import audit, co_use
from subgraphs.common.db import Database
from subgraphs.common.membership_dates import join, today_in_japan
from subgraphs.common.municipality import TAKA
from subgraphs.common.public_cache import shared_cache
from subgraphs.common.roster import by_label, children_of
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import demo_card, sign_in_with_pkce

RESIDENT = by_label("taka-1/kenichi")
CHILD = children_of(RESIDENT.id)[0]
EVERYTHING = """query($child: ID!) { me { id name household { address } pointAccount { balance } watchTags { id } }
  child(id: $child) { id } }"""
LINK = 'mutation($id: String!) { linkServiceAccount(serviceAccountId: $id) { clientId serviceAccountId residentId } }'


def _codes(body: dict) -> dict[tuple, str]:
    return {tuple(e.get("path") or ()): e.get("extensions", {}).get("code") for e in body.get("errors", [])}


@pytest.fixture(scope="module")
async def taka_on_identity_only(stack):
    database = Database("identity", stack.subgraphs["identity"].database_url)
    try:
        async with database.transaction() as session:
            await join(session, "identity", TAKA, today_in_japan())
        yield
        async with database.transaction() as session:   # the rest of the session sees 多可町 as it was seeded
            await session.execute(delete(co_use.Membership).where(co_use.Membership.platform == "identity",
                                                                  co_use.Membership.municipality_code == TAKA))
        shared_cache().clear()
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def library(stack, taka_on_identity_only) -> tuple[str, str]:
    return _register(stack, "library")


def _register(stack, name: str) -> tuple[str, str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["co-use", "register-client", TAKA, name, "--state-dir", str(stack.state_dir / "idp")]) == 0
    printed = out.getvalue()
    client_id = re.search(r"client_id\s+(\S+)", printed).group(1)
    secret = re.search(r"client_secret\s+(\S+)", printed).group(1)
    assert client_id == f"muni-{TAKA}-{name}"
    assert secret not in (stack.state_dir / "idp" / "registered-clients.json").read_text()   # only its hash
    return client_id, secret


async def _tap(stack, person_id: str, client: tuple[str, str]) -> str:
    async with httpx.AsyncClient(timeout=15) as http:
        response = await tap_card(http, stack.idp_url, demo_card(stack.idp_app, person_id),
                                  reader_id=client[0], reader_secret=client[1])
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def test_a_municipality_on_identity_alone_reads_its_identity_data(stack, taka_on_identity_only):
    token = await sign_in_with_pkce(stack.idp_url, RESIDENT.id)
    body = (await post_graphql(stack.graphql_url, EVERYTHING, {"child": CHILD.id}, token=token)).json()
    me = body["data"]["me"]
    assert me["id"] == RESIDENT.id and me["name"] == RESIDENT.name and me["household"]["address"]
    assert me["pointAccount"] is None and me["watchTags"] is None and body["data"]["child"] is None
    codes = _codes(body)
    assert codes == {("me", "pointAccount"): "PLATFORM_NOT_JOINED", ("me", "watchTags"): "PLATFORM_NOT_JOINED",
                     ("child",): "PLATFORM_NOT_JOINED"}


async def test_the_library_links_its_account_after_a_card_tap(stack, library):
    token = await _tap(stack, RESIDENT.id, library)
    body = (await post_graphql(stack.graphql_url, LINK, {"id": "lib-000123"}, token=token)).json()
    assert body["data"]["linkServiceAccount"] == {"clientId": library[0], "serviceAccountId": "lib-000123",
                                                  "residentId": RESIDENT.id}, body
    again = (await post_graphql(stack.graphql_url, LINK, {"id": "lib-000123"}, token=token)).json()
    assert again["data"] == body["data"]                                   # idempotent
    moved = (await post_graphql(stack.graphql_url, LINK, {"id": "lib-999999"}, token=token)).json()
    assert moved["errors"][0]["extensions"]["code"] == "CONFLICT"
    database = Database("identity", stack.subgraphs["identity"].database_url)
    try:
        async with database.sessions() as session:
            records = (await session.execute(select(audit.AuditRecord).where(
                audit.AuditRecord.subject == RESIDENT.id,
                audit.AuditRecord.purpose == f"link service account of {library[0]}"))).scalars().all()
    finally:
        await database.dispose()
    assert records and {r.result for r in records} == {"written"}


async def test_the_link_is_scoped_to_the_municipality_and_to_a_card_sign_in(stack, library):
    himeji_resident = by_label("himeji-1/taro")                         # identity member, but not 多可町's
    token = await _tap(stack, himeji_resident.id, library)
    body = (await post_graphql(stack.graphql_url, LINK, {"id": "lib-000777"}, token=token)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and "another municipality" in str(body)
    password = await sign_in_with_pkce(stack.idp_url, RESIDENT.id)     # kyodo-web, password: not a service card tap
    body = (await post_graphql(stack.graphql_url, LINK, {"id": "lib-000778"}, token=password)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    token = await _tap(stack, RESIDENT.id, library)
    body = (await post_graphql(stack.graphql_url, LINK, {"id": "123456789018"}, token=token)).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"    # shaped like a My Number: refused


async def test_a_wrong_secret_or_an_unregistered_client_cannot_tap(stack, library):
    async with httpx.AsyncClient(timeout=15) as http:
        wrong = await tap_card(http, stack.idp_url, demo_card(stack.idp_app, RESIDENT.id),
                               reader_id=library[0], reader_secret="not-the-secret")
        unknown = await tap_card(http, stack.idp_url, demo_card(stack.idp_app, RESIDENT.id),
                                 reader_id=f"muni-{TAKA}-nothing", reader_secret=library[1])
    assert wrong.status_code == 401 and unknown.status_code == 401
    with pytest.raises(SystemExit):
        main(["co-use", "register-client", "999999", "x"])             # not a municipality code: argparse refuses
    assert main(["co-use", "register-client", TAKA, "library", "--state-dir", str(stack.state_dir / "idp")]) == 1
