"""The playground for front-end developers: kyodo's example operations as tabs (each valid against the
composed kyodo supergraph), a sign-in hint on refused answers, a query-plan panel when the gateway
exposes plans; checked in headless Chromium like the sign-in flow."""

from __future__ import annotations

import contextlib
import importlib
import json
import re
from pathlib import Path

import pytest
from graphql import parse, validate
from strawberry.printer import print_schema

from gateway.composition import SubgraphSource, compose
from gateway.http.playground.examples import EXAMPLES, default_tabs
from gateway.http.playground.page import playground_html
from gateway.http.playground.sign_in import ENV_ISSUER, SignInConfig
from gateway.supergraph import load_supergraph
from tests.gateway_http.test_playground_sign_in import (
    BUTTON, TARO, chromium_page, needs_assets, needs_chromium, open_playground, run_query, sign_in,
)

HINT = "document.getElementById('kyodo-hint')"


def kyodo_api_schema():
    sources = [SubgraphSource(name, f"http://{name}.invalid/graphql",
                              print_schema(importlib.import_module(f"subgraphs.{name}.schema").schema))
               for name in ("childcare", "safety", "currency", "identity")]
    return load_supergraph(compose(sources)).api_schema


def test_every_example_is_a_valid_named_operation_of_the_kyodo_supergraph():
    schema = kyodo_api_schema()
    assert [e.title for e in EXAMPLES] == ["OpenData", "GuardianAcrossCities", "KakogawaSafetyStaff", "VendorMerchants"]
    for example in EXAMPLES:
        document = parse(example.query)
        assert validate(schema, document) == [], example.title
        (operation,) = document.definitions
        assert operation.name.value == example.title   # GraphiQL titles the tab with it


def test_page_opens_on_the_examples_and_asks_for_plans(monkeypatch):
    monkeypatch.delenv(ENV_ISSUER, raising=False)
    page = playground_html("/graphql")
    config = json.loads(re.search(r"KyodoPlayground\.start\((\{.*?\}), document", page, flags=re.S).group(1)
                        .replace("<\\/", "</"))
    assert config["tabs"] == default_tabs() and config["signInOffered"] is False
    assert '"apollo-expose-query-plan"' in page and 'id="kyodo-hint"' in page
    signed = playground_html("/graphql", sign_in=SignInConfig(issuer="http://127.0.0.1:4400"))
    assert '"signInOffered": true' in signed


@contextlib.contextmanager
def plan_exposing_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """(gateway URL, issuer): dev IdP, a subgraph with `me`, the gateway with expose_query_plan on."""
    from auth.idp.app import create_idp_app
    from gateway.http.command import build_app
    from gateway.settings import settings_from_mapping
    from tests.security.counting_subgraph import CallLog, CountingApp, supergraph_sdl
    from tests.security.servers import serve_app, serve_factory

    idp = serve_factory(lambda url: create_idp_app(url, state_dir=tmp_path / "idp", admin_token="test-admin"))
    with idp as (issuer, _), serve_app(CountingApp(CallLog(), str(tmp_path / "gateway-context-jwks.json"))) as subgraph_url:
        settings = settings_from_mapping({"expose_query_plan": True, "auth": {
            "issuers": [{"issuer": issuer, "audience": "urn:kyodo:gateway"}],
            "context_key_file": str(tmp_path / "gateway-context-key.json"),
        }})
        monkeypatch.setenv(ENV_ISSUER, issuer)
        app = build_app(settings, load_supergraph(supergraph_sdl(subgraph_url + "/graphql")))
        with serve_app(app) as gateway_url:
            yield gateway_url, issuer


@needs_chromium
@needs_assets
async def test_tabs_hint_and_plan_panel_in_headless_chromium(tmp_path, monkeypatch):
    with plan_exposing_stack(tmp_path, monkeypatch) as (gateway_url, issuer):
        async with chromium_page() as devtools:
            await open_playground(devtools, gateway_url)
            tabs = await devtools.wait_for(
                "[...document.querySelectorAll('.graphiql-tab-button')].map(t => t.textContent.trim()).filter(Boolean)",
                "GraphiQL's tabs")
            assert [e.title for e in EXAMPLES] == [t for t in tabs if t in {e.title for e in EXAMPLES}], tabs
            assert "Welcome to GraphiQL" not in await devtools.evaluate("document.body.innerText")
            assert await devtools.evaluate(f"{HINT}.hidden") is True
            # our own operations go in a new tab (the examples' operation names stay with theirs)
            await devtools.evaluate("document.querySelector('.graphiql-tab-add').click()")
            await devtools.wait_for("document.querySelectorAll('.graphiql-tab-button').length === 5", "a fifth tab")

            anonymous = await run_query(devtools, "{ me { id } }")
            assert anonymous["data"]["me"] is None
            code = anonymous["errors"][0]["extensions"]["code"]
            hint = await devtools.wait_for(f"!{HINT}.hidden && {HINT}.textContent", "the sign-in hint")
            assert hint.startswith(code) and "Sign in" in hint and "kyodo token" in hint

            # an answer nobody refused clears the hint
            open_data = await run_query(devtools, "{ shelters { name } }")
            assert open_data["data"]["shelters"] and "errors" not in open_data
            assert await devtools.evaluate(f"{HINT}.hidden") is True
            # the gateway returns plans, so the panel is offered; it shows the last operation's plan
            await devtools.wait_for("document.querySelector('[aria-label=\"Show Query plan\"]')", "the plan button")
            await devtools.evaluate("document.querySelector('[aria-label=\"Show Query plan\"]').click()")
            plan = await devtools.wait_for("document.querySelector('.kyodo-plan-text') && "
                                           "document.querySelector('.kyodo-plan-text').textContent", "the plan text")
            assert plan.startswith("QueryPlan") and "Fetch" in plan, plan

            assert await sign_in(devtools, gateway_url, issuer, TARO.id) == TARO.id
            await devtools.wait_for(f"{BUTTON} && {BUTTON}.textContent === 'Sign out'", "signed in")
            me = await run_query(devtools, "{ me { id } }")
            assert me["data"]["me"] == {"id": TARO.id}
            assert await devtools.evaluate(f"{HINT}.hidden") is True
            # no request left the machine: every resource came from the gateway (or is inline)
            urls = await devtools.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
            assert urls and all(u.startswith(gateway_url) or u.startswith(issuer) for u in urls), urls


@needs_chromium
@needs_assets
async def test_no_plan_panel_when_the_gateway_does_not_expose_plans(supergraph, monkeypatch):
    from gateway.http import create_app
    from gateway.settings import Settings
    from tests.gateway_http.servers import ThreadedServer

    monkeypatch.delenv(ENV_ISSUER, raising=False)
    with ThreadedServer(create_app(Settings(), supergraph)) as server:
        async with chromium_page() as devtools:
            await devtools.call("Page.navigate", url=server.url + "/graphql")
            await devtools.wait_for("document.querySelector('.graphiql-execute-button')", "the playground")
            assert await run_query(devtools, "{ __typename }") == {"data": {"__typename": "Query"}}
            assert await devtools.evaluate("!!document.querySelector('[aria-label=\"Show Query plan\"]')") is False
            # without a sign-in IdP the hint for a refused answer points at the Headers tab instead
            assert await devtools.evaluate(f"{HINT}.hidden") is True
