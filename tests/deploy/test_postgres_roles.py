"""docker/postgres/init-roles.sh on a real PostgreSQL: each platform's role owns its database and can work in
it, and cannot even connect to another platform's. Runs the script's own `create` function with throwaway
names on the test server (KYODO_TEST_POSTGRES_URL), then drops what it made.

CREATE/DROP DATABASE wait for every backend of the server to absorb a barrier; on a server busy with other
suites that took over a minute here, so the commands get a generous bound (they are not timed)."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

SCRIPT = Path(__file__).resolve().parents[2] / "docker" / "postgres" / "init-roles.sh"
URL = os.environ.get("KYODO_TEST_POSTGRES_URL")
PSQL_BOUND_SECONDS = 600
pytestmark = [
    pytest.mark.skipif(not URL, reason="KYODO_TEST_POSTGRES_URL is not set (a PostgreSQL to create roles on)"),
    pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed"),
]


def _server_env() -> dict[str, str]:
    url = make_url(URL)
    return {**os.environ, "PGHOST": url.host or "127.0.0.1", "PGPORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres", "PGUSER": url.username or "postgres"}


def _psql(sql: str, *, user: str | None = None, password: str | None = None, database: str = "postgres"):
    env = _server_env()
    if user:
        env["PGUSER"] = user
    if password:
        env["PGPASSWORD"] = password
    return subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-tA", "-d", database, "-c", sql], env=env,
                          capture_output=True, text=True, timeout=PSQL_BOUND_SECONDS)


@pytest.fixture
def two_platforms():
    function = re.search(r"^create\(\) \{.*?^\}$", SCRIPT.read_text(), flags=re.S | re.M).group(0)
    names = [f"kyodo_roletest_{secrets.token_hex(4)}_{n}" for n in ("a", "b")]
    passwords = [secrets.token_urlsafe(12) for _ in names]
    try:
        for name, password in zip(names, passwords):
            made = subprocess.run(["sh", "-c", f'{function}\ncreate "$1" "$2"', "init-roles", name, password],
                                  env=_server_env(), capture_output=True, text=True, timeout=PSQL_BOUND_SECONDS)
            assert made.returncode == 0, made.stderr
        yield list(zip(names, passwords))
    finally:
        for name in names:
            # FORCE: a connection of the test itself that lingers does not keep the database alive
            _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _psql(f'DROP ROLE IF EXISTS "{name}"')


def test_a_platform_role_works_in_its_own_database_only(two_platforms):
    (a, a_password), (b, _) = two_platforms
    own = _psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1); SELECT count(*) FROM t",
                user=a, password=a_password, database=a)
    assert own.returncode == 0 and own.stdout.strip().endswith("1"), own.stderr
    other = _psql("SELECT 1", user=a, password=a_password, database=b)
    assert other.returncode != 0 and "permission denied" in other.stderr
    attributes = _psql(f"SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = '{a}'")
    assert attributes.stdout.strip() == "f|f|f"
