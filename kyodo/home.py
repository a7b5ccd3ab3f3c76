"""Where `kyodo` keeps its local state (var/): one directory, whatever the current directory is.

`KYODO_HOME` names it; without it, a source checkout (the `pip install -e .` of `make install`) uses its
own root, and an installed package the current directory. The SQLite databases, the dev IdP's state and
the dev stack's files all live under `<home>/var/`, so `kyodo import` run from elsewhere updates the
databases `kyodo dev` serves instead of creating fresh ones where it happens to run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

HOME_ENV = "KYODO_HOME"
SUBGRAPHS = ("childcare", "safety", "currency", "identity")
_CHECKOUT_ROOT = Path(__file__).resolve().parent.parent


def kyodo_home(environ: MutableMapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    configured = environ.get(HOME_ENV, "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    if (_CHECKOUT_ROOT / "pyproject.toml").is_file() and (_CHECKOUT_ROOT / "kyodo").is_dir():
        return _CHECKOUT_ROOT
    return Path.cwd().resolve()


def var_dir(environ: MutableMapping[str, str] | None = None) -> Path:
    return kyodo_home(environ) / "var"


def database_env(name: str) -> str:
    return f"KYODO_{name.upper()}_DATABASE_URL"


def apply_home_defaults(environ: MutableMapping[str, str] | None = None) -> Path:
    """Point every subgraph database not configured otherwise at `<home>/var/<name>.sqlite`.

    Written into the environment (only where unset) so that child processes (`kyodo dev`) agree."""
    environ = os.environ if environ is None else environ
    var = var_dir(environ)
    for name in SUBGRAPHS:
        if not environ.get(database_env(name)):
            environ[database_env(name)] = f"sqlite+aiosqlite:///{var / f'{name}.sqlite'}"
    return var


@contextmanager
def home_defaults(environ: MutableMapping[str, str] | None = None) -> Iterator[Path]:
    """`apply_home_defaults` for the length of one command; what it added is taken out again afterwards
    (so a test calling `kyodo.cli.main` twice with different homes gets each one)."""
    environ = os.environ if environ is None else environ
    before = {name: environ.get(database_env(name)) for name in SUBGRAPHS}
    try:
        yield apply_home_defaults(environ)
    finally:
        for name, value in before.items():
            if value is None:
                environ.pop(database_env(name), None)
