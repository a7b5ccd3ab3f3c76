"""The playground's HTML: GraphiQL with the explorer plugin, every script from /playground/static/."""

from __future__ import annotations

import html

from gateway.http.playground.assets import ASSETS_BY_NAME

STATIC_PREFIX = "/playground/static/"


def _script(name: str) -> str:
    asset = ASSETS_BY_NAME[name]
    return f'<script src="{STATIC_PREFIX}{asset.name}" integrity="{asset.integrity}"></script>'


def _style(name: str) -> str:
    asset = ASSETS_BY_NAME[name]
    return f'<link rel="stylesheet" href="{STATIC_PREFIX}{asset.name}" integrity="{asset.integrity}">'


def playground_html(endpoint: str, title: str = "kyodo GraphQL") -> str:
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
{_script("react.production.min.js")}
{_script("react-dom.production.min.js")}
{_script("graphiql.min.js")}
{_script("plugin-explorer.umd.js")}
</head>
<body>
<div id="graphiql">Loading the GraphQL playground…</div>
<script>
  const endpoint = new URL({_js_string(endpoint)}, window.location.href).toString();
  const fetcher = GraphiQL.createFetcher({{ url: endpoint, headers: {{ "apollo-require-preflight": "true" }} }});
  const plugins = [GraphiQLPluginExplorer.explorerPlugin()];
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {{ fetcher, plugins, defaultEditorToolsVisibility: true }})
  );
</script>
</body>
</html>
"""


def missing_assets_html(command: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Playground not installed</title></head>
<body><h1>The GraphQL playground's files are not installed</h1>
<p>This gateway serves GraphiQL from local files only. Fetch them once with:</p>
<pre>{html.escape(command)}</pre>
<p>GraphQL requests to this endpoint work as usual.</p></body></html>
"""


def _js_string(value: str) -> str:
    import json

    return json.dumps(value).replace("</", "<\\/")
