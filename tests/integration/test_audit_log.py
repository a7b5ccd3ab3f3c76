"""Every permitted personal-data read of the cross-city query lands in the owning subgraph's audit log, a
refusal is logged as such, and the hash chains verify (`subgraphs.common.audit.verify_chain` and the real
`kyodo audit verify` command), while an edited record makes the command fail and name it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from subgraphs.common.db import env_var
from subgraphs.common.roster import by_label, children_of
from tests.integration.audit_logs import audit_entries_after, broken_audit_records, last_audit_id
from tests.integration.cross_city import CROSS_CITY_QUERY
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import sign_in_with_pkce
from tests.integration.test_access_control import OTHER_RESIDENT
from tests.integration.test_cross_city_query import cross_city_variables

REPO = Path(__file__).resolve().parents[2]
AUDITED = ("identity", "childcare", "currency")


def _by_subject(entries) -> dict[str, list]:  # noqa: ANN001
    grouped: dict[str, list] = {}
    for entry in entries:
        grouped.setdefault(entry.subject, []).append(entry)
    return grouped


async def test_each_permitted_read_is_audited_by_its_owner(stack, guardian, guardian_token, checked_in):
    marks = {name: await last_audit_id(stack.subgraphs[name].database_url) for name in AUDITED}
    response = await post_graphql(stack.graphql_url, CROSS_CITY_QUERY, cross_city_variables(guardian.id),
                                  token=guardian_token)
    assert "errors" not in response.json()
    new = {name: await audit_entries_after(stack.subgraphs[name].database_url, marks[name]) for name in AUDITED}
    children = {child.id for child in children_of(guardian.id)}

    for name, entries in new.items():
        assert entries, f"{name} audited nothing"
        assert {e.actor for e in entries} == {guardian.id}, name
        assert {e.result for e in entries} == {"permitted"}, name
    # identity: the guardian's own record, and each child's name read through federation
    assert set(_by_subject(new["identity"])) == {guardian.id} | children
    # childcare: each child's record
    assert set(_by_subject(new["childcare"])) == children
    # currency: the guardian's account
    assert set(_by_subject(new["currency"])) == {guardian.id}
    assert any("balance" in e.fields for e in new["currency"])


async def test_a_refused_read_is_audited_as_denied(stack, guardian):
    other = by_label(OTHER_RESIDENT)
    token = await sign_in_with_pkce(stack.idp_url, other.id)
    mark = await last_audit_id(stack.subgraphs["identity"].database_url)
    await post_graphql(stack.graphql_url, CROSS_CITY_QUERY, cross_city_variables(guardian.id), token=token)
    entries = await audit_entries_after(stack.subgraphs["identity"].database_url, mark)
    assert [(e.actor, e.subject, e.result) for e in entries] == [(other.id, guardian.id, "denied")]


def _kyodo_audit_verify(database_urls: dict[str, str], *options: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **{env_var(name): url for name, url in database_urls.items()}}
    return subprocess.run([sys.executable, "-m", "kyodo", "audit", "verify", *options], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


async def test_audit_chains_verify(stack, guardian, guardian_token, checked_in):
    # make sure there is something to verify in every platform that holds personal data
    await post_graphql(stack.graphql_url, CROSS_CITY_QUERY, cross_city_variables(guardian.id), token=guardian_token)
    for name in AUDITED:
        assert await last_audit_id(stack.subgraphs[name].database_url) > 0, name
    for name, subgraph in stack.subgraphs.items():
        assert await broken_audit_records(subgraph.database_url) == [], name
    result = _kyodo_audit_verify({name: sub.database_url for name, sub in stack.subgraphs.items()})
    assert result.returncode == 0, result.stdout + result.stderr
    for name in stack.subgraphs:
        assert f"{name}: audit chain intact" in result.stdout


async def test_kyodo_audit_verify_names_an_edited_record(stack, tmp_path, guardian, guardian_token, checked_in):
    """The check above can fail: on a consistent copy of identity's live database, edit one record."""
    await post_graphql(stack.graphql_url, CROSS_CITY_QUERY, cross_city_variables(guardian.id), token=guardian_token)
    live = make_url(stack.subgraphs["identity"].database_url).database
    copy = tmp_path / "identity-copy.sqlite"
    with sqlite3.connect(live) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as connection:
        edited = connection.execute("SELECT min(id) FROM audit_record WHERE actor = ?", (guardian.id,)).fetchone()[0]
        connection.execute("UPDATE audit_record SET result = 'denied' WHERE id = ?", (edited,))
    result = _kyodo_audit_verify({"identity": f"sqlite+aiosqlite:///{copy}"}, "--subgraph", "identity")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"identity: audit record {edited} edited" in result.stdout


async def test_the_card_tap_check_in_is_audited_as_a_write(stack, guardian, checked_in):
    entries = await audit_entries_after(stack.subgraphs["identity"].database_url, 0)
    writes = [e for e in entries if e.purpose == f"shelter check-in at {checked_in.shelter_id}"]
    assert [(e.actor, e.subject, e.result) for e in writes] == [(guardian.id, guardian.id, "written")]


async def test_concurrent_requests_audited_per_read_and_chains_stay_intact(stack, guardian, guardian_token,
                                                                          checked_in):
    """18 guardian and 6 outsider requests at once: every answer right, one record per subgraph read, no fork.

    The gateway merges identical in-flight work of one caller (the same subgraph fetch with the same context
    token runs once), so the guardian's 18 requests make between 1 and 18 reads of each subgraph; every read
    writes its record (each subgraph's merging is its own, so each count lies between one request's share and
    every request's), by the right actor, and each chain stays consecutive."""
    import asyncio
    from collections import Counter

    other_token = await sign_in_with_pkce(stack.idp_url, by_label(OTHER_RESIDENT).id)
    variables = cross_city_variables(guardian.id)
    baseline = (await post_graphql(stack.graphql_url, CROSS_CITY_QUERY, variables, token=guardian_token)).json()
    assert "errors" not in baseline
    databases = {name: stack.subgraphs[name].database_url for name in AUDITED}
    marks = {name: await last_audit_id(url) for name, url in databases.items()}
    tokens = [guardian_token if i % 4 else other_token for i in range(24)]
    responses = await asyncio.gather(*(post_graphql(stack.graphql_url, f"{CROSS_CITY_QUERY}\n# request {i}",
                                                    variables, token=t) for i, t in enumerate(tokens)))
    for token, response in zip(tokens, responses):
        assert response.status_code == 200
        if token is guardian_token:
            assert response.json() == baseline
        else:
            assert response.json()["data"]["resident"] is None
    guardian_requests, outsider_requests = tokens.count(guardian_token), tokens.count(other_token)
    children = len(children_of(guardian.id))
    new = {name: await audit_entries_after(url, marks[name]) for name, url in databases.items()}
    per_request = {"identity": 1 + children, "childcare": children, "currency": 1}
    outsider = by_label(OTHER_RESIDENT).id
    for name, records in new.items():
        permitted = [e for e in records if e.result == "permitted"]
        assert per_request[name] <= len(permitted) <= guardian_requests * per_request[name], name
        assert {e.actor for e in permitted} == {guardian.id}, name
        denied = [e for e in records if e.result == "denied"]
        assert {e.actor for e in denied} <= {outsider} and len(permitted) + len(denied) == len(records), name
    assert 1 <= len([e for e in new["identity"] if e.result == "denied"]) <= outsider_requests
    for name, url in databases.items():
        ids = [e.id for e in new[name]]
        assert ids == list(range(marks[name] + 1, marks[name] + 1 + len(ids))), name   # consecutive, no gaps
        assert await broken_audit_records(url) == [], name
