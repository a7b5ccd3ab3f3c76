"""The playground's HTML: GraphiQL with the explorer plugin, every script from /playground/static/, kyodo's
example tabs, a sign-in hint on refused answers, a query-plan panel and the parts of an @defer answer as they
arrive (playground.js), an inline favicon."""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path

from gateway.http.playground.assets import ASSETS_BY_NAME
from gateway.http.playground.examples import default_tabs
from gateway.http.playground.sign_in import SignInConfig, sign_in_from_environment

STATIC_PREFIX = "/playground/static/"
SIGN_IN_SCRIPT = Path(__file__).with_name("sign_in.js")
PAGE_SCRIPT = Path(__file__).with_name("playground.js")
# 共 in a kyodo-blue square, inline: no request for /favicon.ico, nothing from elsewhere.
FAVICON = ("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E"
           "%3Crect width='32' height='32' rx='6' fill='%23005bac'/%3E"
           "%3Ctext x='16' y='24' font-size='22' text-anchor='middle' fill='white' "
           "font-family='sans-serif'%3E%E5%85%B1%3C/text%3E%3C/svg%3E")
SIGN_IN_BAR_HEIGHT = "2.25rem"


def _script(name: str) -> str:
    asset = ASSETS_BY_NAME[name]
    return f'<script src="{STATIC_PREFIX}{asset.name}" integrity="{asset.integrity}"></script>'


def _style(name: str) -> str:
    asset = ASSETS_BY_NAME[name]
    return f'<link rel="stylesheet" href="{STATIC_PREFIX}{asset.name}" integrity="{asset.integrity}">'


def playground_html(endpoint: str, title: str = "kyodo GraphQL", sign_in: SignInConfig | None = None) -> str:
    """The page; with a sign-in config (given, or from the environment) it has a "Sign in" bar."""
    sign_in = sign_in or sign_in_from_environment()
    page_config = {"endpoint": endpoint, "tabs": default_tabs(), "signInOffered": sign_in is not None}
    # The fetcher sends JSON (never a CORS "simple" request), so CSRF prevention lets it through;
    # the extra header says so explicitly for the GET fallbacks GraphiQL may use.
    # The fetcher (playground.js) sends JSON (never a CORS "simple" request), so CSRF prevention lets it
    # through; relative to the page, so the endpoint is this gateway whatever its public address.
    return f"""<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" type="image/svg+xml" href="{FAVICON}">
<style>html, body {{ height: 100%; margin: 0; }} #graphiql {{ height: 100vh; }}</style>
{_kyodo_style()}
{_style("graphiql.min.css")}
{_style("plugin-explorer.css")}
{_sign_in_style() if sign_in else ""}
{_script("react.production.min.js")}
{_script("react-dom.production.min.js")}
{_script("graphiql.min.js")}
{_script("plugin-explorer.umd.js")}
{_script("graphql-ws.min.js")}
</head>
<body>
{'<div id="kyodo-sign-in" class="kyodo-sign-in"></div>' if sign_in else ""}
<div id="graphiql">Loading the GraphQL playground…</div>
<div id="kyodo-hint" class="kyodo-hint" role="status" hidden></div>
<div id="kyodo-parts" class="kyodo-parts" role="status" hidden></div>
{_sign_in_scripts(sign_in) if sign_in else ""}
<script>
{_page_source()}
</script>
<script>
  KyodoPlayground.start({_js_value(page_config)}, document.getElementById("graphiql"),
                        document.getElementById("kyodo-hint"), document.getElementById("kyodo-parts"));
</script>
</body>
</html>
"""


def _kyodo_style() -> str:
    return """<style>
  .kyodo-hint { position: fixed; right: 1rem; bottom: 1rem; max-width: 32rem; z-index: 10; padding: 0.6rem 0.9rem;
    font: 14px/1.4 system-ui, sans-serif; color: #3d2e00; background: #fff4ce; border: 1px solid #e0c060;
    border-radius: 6px; box-shadow: 0 2px 8px rgba(0, 0, 0, 0.15); }
  .kyodo-parts { position: fixed; left: 50%; bottom: 0.5rem; transform: translateX(-50%); z-index: 10;
    padding: 0.3rem 0.8rem; font: 13px system-ui, sans-serif; color: #0b3a6e; background: #e8f1fb;
    border: 1px solid #9cc2ea; border-radius: 6px; }
  .kyodo-plan { font: 13px system-ui, sans-serif; }
  .kyodo-plan-text { white-space: pre; overflow: auto; font: 12px/1.45 ui-monospace, monospace; }
</style>"""


def _sign_in_style() -> str:
    return f"""<style>
  .kyodo-sign-in {{ height: {SIGN_IN_BAR_HEIGHT}; box-sizing: border-box; display: flex; gap: 0.75rem;
    align-items: center; justify-content: flex-end; padding: 0 1rem; font: 14px system-ui, sans-serif;
    border-bottom: 1px solid #d0d4d9; background: #f6f7f9; }}
  .kyodo-sign-in button {{ font: inherit; padding: 0.15rem 0.8rem; cursor: pointer; }}
  #graphiql {{ height: calc(100vh - {SIGN_IN_BAR_HEIGHT}); }}
</style>"""


def _sign_in_scripts(sign_in: SignInConfig) -> str:
    # Inline, so it is served by this gateway like the rest (no CDN, no extra route).
    return f"""<script>
{_sign_in_source()}
</script>
<script>
  KyodoSignIn.start({_js_value(sign_in.to_js())}, document.getElementById("kyodo-sign-in"));
</script>"""


@lru_cache(maxsize=1)
def _page_source() -> str:
    return PAGE_SCRIPT.read_text(encoding="utf-8").replace("</", "<\\/")


@lru_cache(maxsize=1)
def _sign_in_source() -> str:
    return SIGN_IN_SCRIPT.read_text(encoding="utf-8").replace("</", "<\\/")


def missing_assets_html(command: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Playground not installed</title></head>
<body><h1>The GraphQL playground's files are not installed</h1>
<p>This gateway serves GraphiQL from local files only. Fetch them once with:</p>
<pre>{html.escape(command)}</pre>
<p>GraphQL requests to this endpoint work as usual.</p></body></html>
"""


def _js_string(value: str) -> str:
    return _js_value(value)


def _js_value(value: object) -> str:
    """JSON that is safe inside a <script> element."""
    return json.dumps(value).replace("</", "<\\/")
