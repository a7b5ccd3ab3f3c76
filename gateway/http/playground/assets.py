"""The GraphiQL files the playground serves, and where they live on disk.

Municipal LGWAN terminals have no internet, so the page loads nothing from a CDN. The files come
from the npm registry (`python -m gateway.http.playground.fetch_assets`) into var/playground/,
which is not committed; each is checked against its sha384 before it is kept, and the page
repeats the hash as the script's `integrity` so the browser checks it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kyodo.home import var_dir


@dataclass(frozen=True)
class Asset:
    package: str     # npm spec given to `npm pack`
    member: str      # path inside the package tarball
    name: str        # file name served under /playground/static/
    integrity: str   # sha384 of the file, base64 (Subresource Integrity form)


ASSETS: tuple[Asset, ...] = (
    Asset("react@18.2.0", "package/umd/react.production.min.js", "react.production.min.js",
          "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8"),
    Asset("react-dom@18.2.0", "package/umd/react-dom.production.min.js", "react-dom.production.min.js",
          "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh"),
    Asset("graphiql@3.8.3", "package/graphiql.min.js", "graphiql.min.js",
          "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie"),
    Asset("graphiql@3.8.3", "package/graphiql.min.css", "graphiql.min.css",
          "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM"),
    Asset("@graphiql/plugin-explorer@1.0.2", "package/dist/index.umd.js", "plugin-explorer.umd.js",
          "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9"),
    Asset("@graphiql/plugin-explorer@1.0.2", "package/dist/style.css", "plugin-explorer.css",
          "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi"),
    # The graphql-transport-ws client GraphiQL's fetcher uses for subscriptions (global `graphqlWs`).
    Asset("graphql-ws@6.4.2", "package/umd/graphql-ws.min.js", "graphql-ws.min.js",
          "sha384-mxvR4Mzbsb6QVx/9xI2gtQikQA6m8zMDBFnu3l//4/ROsWt7y2sUGWd+/tYQqDm7"),
)

ASSETS_BY_NAME = {asset.name: asset for asset in ASSETS}

# <KYODO_HOME>/var/playground: the checkout's var/ in development, /app/var in the image (KYODO_HOME=/app).
DEFAULT_ASSETS_DIR = var_dir() / "playground"


def assets_dir(configured: str = "") -> Path:
    return Path(configured) if configured else DEFAULT_ASSETS_DIR


def missing_assets(directory: Path) -> list[str]:
    return [asset.name for asset in ASSETS if not (directory / asset.name).is_file()]
