"""The playground's HTML: GraphiQL with the explorer plugin, every script from /playground/static/."""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path

from gateway.http.playground.assets import ASSETS_BY_NAME
from gateway.http.playground.sign_in import SignInConfig, sign_in_from_environment

STATIC_PREFIX = "/playground/static/"
SIGN_IN_SCRIPT = Path(__file__).with_name("sign_in.js")
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
    # The fetcher sends JSON (never a CORS "simple" request), so CSRF prevention lets it through;
    # the extra header says so explicitly for the GET fallbacks GraphiQL may use.
    return f"""<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>html, body {{ height: 100%; margin: 0; }} #graphiql {{ height: 100vh; }}</style>
{_style("graphiql.min.css")}
{_style("plugin-explorer.css")}
{_sign_in_style() if sign_in else ""}
{_script("react.production.min.js")}
{_script("react-dom.production.min.js")}
{_script("graphiql.min.js")}
{_script("plugin-explorer.umd.js")}
</head>
<body>
{'<div id="kyodo-sign-in" class="kyodo-sign-in"></div>' if sign_in else ""}
<div id="graphiql">Loading the GraphQL playground…</div>
{_sign_in_scripts(sign_in) if sign_in else ""}
<script>
  const endpoint = new URL({_js_string(endpoint)}, window.location.href).toString();
  const baseFetcher = GraphiQL.createFetcher({{ url: endpoint, headers: {{ "apollo-require-preflight": "true" }} }});
  // Headers typed into GraphiQL's header editor win over the signed-in token.
  const signInHeaders = async () => (typeof KyodoSignIn === "undefined" ? {{}} : KyodoSignIn.headers());
  const fetcher = async (params, options) =>
    baseFetcher(params, {{ ...options, headers: {{ ...(await signInHeaders()), ...(options && options.headers) }} }});
  const plugins = [GraphiQLPluginExplorer.explorerPlugin()];
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {{ fetcher, plugins, defaultEditorToolsVisibility: true }})
  );
</script>
</body>
</html>
"""


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
