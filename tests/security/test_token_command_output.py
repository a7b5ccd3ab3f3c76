"""`kyodo token` as a new user meets it: a listed table with scopes, a clear word on a wrong vendor secret,
and `--card` finding the IdP's card authority under KYODO_HOME whatever the current directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from auth.dev_token import VENDOR_SECRET_ENV, demo_accounts
from subgraphs.common.roster import by_label
from tests.security.servers import serve_factory

REPO = Path(__file__).resolve().parents[2]
TARO = by_label("himeji-1/taro")


def kyodo(*args: str, cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kyodo", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(REPO), **env})


@pytest.fixture(scope="module")
def home_idp(tmp_path_factory):
    """(issuer, KYODO_HOME) of a dev IdP keeping its state in <home>/var/idp, as `kyodo idp` does by default."""
    from auth.idp.app import create_idp_app

    home = tmp_path_factory.mktemp("kyodo-home")
    with serve_factory(lambda url: create_idp_app(url, state_dir=home / "var" / "idp", admin_token="t")) as (url, _):
        yield url, home


def test_list_has_a_header_and_each_accounts_scopes():
    listed = kyodo("token", "--list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["id", "name", "municipality", "roles", "card", "scopes"]
    staff = next(a for a in demo_accounts() if "staff" in a.roles)
    staff_line = next(line for line in lines if line.startswith(staff.id))
    assert staff_line.rstrip().endswith(" ".join(staff.scopes))
    assert lines[-1].split()[:3] == ["--vendor", "client", "kyodo-vendor"] and "currency:merchant" in lines[-1]
    assert len(lines) == len(demo_accounts()) + 2


def test_a_wrong_vendor_secret_says_which_setting_to_match(home_idp):
    issuer, _ = home_idp
    wrong = kyodo("token", "--issuer", issuer, "--vendor", **{VENDOR_SECRET_ENV: "not-the-secret"})
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert VENDOR_SECRET_ENV in wrong.stderr and "kyodo-vendor" in wrong.stderr
    assert "cannot authenticate with methods" not in wrong.stderr and "Traceback" not in wrong.stderr


def test_card_token_from_another_directory_uses_kyodo_home(home_idp, tmp_path):
    issuer, home = home_idp
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    tapped = kyodo("token", "--issuer", issuer, "--card", TARO.id, cwd=elsewhere, KYODO_HOME=str(home))
    assert tapped.returncode == 0, tapped.stderr
    assert tapped.stdout.strip().count(".") == 2
    assert list(elsewhere.iterdir()) == []
