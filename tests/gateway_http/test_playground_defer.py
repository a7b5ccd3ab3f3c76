"""The playground shows an @defer answer arriving part by part, in headless Chromium (offline: every
script from the gateway, the page's inline scripts allowed by their CSP hashes)."""

from __future__ import annotations

import asyncio
import json

from gateway.http.playground.sign_in import ENV_ISSUER
from tests.gateway_http.test_defer_http import gateway, subgraphs
from tests.gateway_http.test_playground_sign_in import RESULT, chromium_page, needs_assets, needs_chromium

PARTS = "document.getElementById('kyodo-parts')"
QUERY = '{ topProducts { name ... @defer(label: "fast") { reviews { body } } ... @defer(label: "slow") { inStock } } }'


@needs_chromium
@needs_assets
async def test_deferred_parts_arrive_in_the_playground(monkeypatch):
    monkeypatch.delenv(ENV_ISSUER, raising=False)
    release = asyncio.Event()
    subs = subgraphs()

    async def held_stock(rep: dict) -> dict:
        await release.wait()
        return {"__typename": "Product", "upc": rep["upc"], "inStock": True}

    subs[3].entities["Product"] = held_stock  # type: ignore[assignment]
    async with gateway(subs) as (url, _), chromium_page() as devtools:
        try:
            await _run(devtools, url, release)
        finally:
            release.set()  # (a failed check must not leave the held subgraph request for the shutdown)


async def _run(devtools, url: str, release: asyncio.Event) -> None:
    """Run the query in the playground; check the parts as they come; release the held one midway."""
    await devtools.call("Page.navigate", url=url)
    await devtools.wait_for("document.querySelector('.graphiql-execute-button')", "the playground")
    await devtools.evaluate(f"document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
                            f".setValue({json.dumps(QUERY)})")
    await devtools.evaluate("document.querySelector('.graphiql-execute-button').click()")
    # the primary part and the fast deferred part are shown while the slow one is still held back
    shown = await devtools.wait_for(f"(() => {{ const t = {RESULT}; return t.includes('soft') ? t : ''; }})()",
                                    "the first deferred part in the response pane")
    assert "Futon" in shown and "inStock" not in shown
    status = await devtools.wait_for(f"!{PARTS}.hidden && {PARTS}.dataset.parts === '1' && {PARTS}.textContent",
                                     "the parts line after one deferred part")
    assert "receiving" in status and "fast" in status
    release.set()
    status = await devtools.wait_for(f"{PARTS}.dataset.complete === 'true' && {PARTS}.textContent",
                                     "the parts line complete")
    assert "2 deferred parts" in status and "6 entries" in status
    merged = json.loads(await devtools.wait_for(
        f"(() => {{ const t = {RESULT}; return t.includes('inStock') ? t : ''; }})()", "the merged answer"))
    assert merged["data"]["topProducts"][1] == {"name": "Kotatsu", "reviews": [{"body": "warm"}, {"body": "big"}],
                                                "inStock": True}
    # a plain answer hides the line again
    await devtools.evaluate("document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
                            ".setValue('{ me { name } }')")
    await devtools.evaluate(f"document.querySelector('.graphiql-response .CodeMirror').CodeMirror.setValue('')")
    await devtools.evaluate("document.querySelector('.graphiql-execute-button').click()")
    await devtools.wait_for(f"(() => {{ const t = {RESULT}; return t.includes('Aiko') ? t : ''; }})()", "me")
    assert await devtools.evaluate(f"{PARTS}.hidden") is True
