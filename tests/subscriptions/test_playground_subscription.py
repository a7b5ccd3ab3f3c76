"""The playground subscribes: GraphiQL in headless Chromium runs a subscription through the gateway
(graphql-ws over the page's own origin, under the page's Content-Security-Policy) and shows each event."""

from __future__ import annotations

import json

import aiohttp

from tests.gateway_http.test_playground_sign_in import RESULT, chromium_page, needs_assets, needs_chromium
from tests.subscriptions.clients import report_level, wait_for_subscribers

SUBSCRIPTION = 'subscription PlaygroundLevels { levelChanged(station: "pg-1") { sequence levelCm station { name } } }'


@needs_chromium
@needs_assets
async def test_graphiql_shows_subscription_events(gateway, gauges):
    async with chromium_page() as devtools, aiohttp.ClientSession() as session:
        await devtools.call("Page.navigate", url=gateway.url + "/graphql")
        await devtools.wait_for("document.querySelector('.graphiql-execute-button')", "the playground")
        await devtools.evaluate("document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
                                f".setValue({json.dumps(SUBSCRIPTION)})")
        # GraphiQL takes the editor's text into its state a moment later (its tab then shows the operation's
        # name); run before that and it would run the tab's earlier text.
        await devtools.wait_for("[...document.querySelectorAll('.graphiql-tab-active, .graphiql-tab-button')]"
                                ".some((tab) => tab.textContent.includes('PlaygroundLevels'))",
                                "GraphiQL to take the subscription's text")
        await devtools.evaluate("document.querySelector('.graphiql-execute-button').click()")
        # a browser on a busy machine: as generous as the other headless-Chromium waits
        await wait_for_subscribers(session, gauges.url, "pg-1", 1, wait=90)
        for sequence in (1, 2):
            await report_level(session, gauges.url, "pg-1", 200 + sequence, sequence)
            shown = await devtools.wait_for(
                f"(() => {{ const t = {RESULT}; return t.includes('\"sequence\": {sequence}') ? t : ''; }})()",
                f"event {sequence} in GraphiQL's response pane")
            assert json.loads(shown) == {"data": {"levelChanged": {
                "sequence": sequence, "levelCm": 200 + sequence, "station": {"name": "station pg-1"}}}}
        label = await devtools.evaluate("document.querySelector('.graphiql-execute-button').getAttribute('aria-label')")
        assert label.startswith("Stop")
        # Stopping the operation in GraphiQL ends the subscription at the subgraph too.
        await devtools.evaluate("document.querySelector('.graphiql-execute-button').click()")
        await wait_for_subscribers(session, gauges.url, "pg-1", 0, wait=90)
