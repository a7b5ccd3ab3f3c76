"""`kyodo token`: tokens for each kind of demo account from a real dev IdP over HTTP, accepted by
the gateway; one-line errors with exit status 2 otherwise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from auth.dev_token import DevTokenError, demo_accounts, dev_token
from auth.idp.directory import ACCOUNTS
from gateway.security import GatewaySecurity
from subgraphs.common.roster import ROSTER, STAFF, by_label, has_demo_card
from tests.security.servers import serve_factory
from tests.security.test_gateway_security import FakeRequest

REPO = Path(__file__).resolve().parents[2]
TARO = by_label("himeji-1/taro")  # Himeji parent: resident + guardian, holds a demo card


@pytest.fixture(scope="module")
def dev_idp(tmp_path_factory):
    """(issuer URL, state dir) of a dev IdP served on a free port."""
    from auth.idp.app import create_idp_app

    state = tmp_path_factory.mktemp("idp-state")
    with serve_factory(lambda url: create_idp_app(url, state_dir=state, admin_token="test-admin")) as (url, _):
        yield url, state


@pytest.fixture
async def gateway(dev_idp, tmp_path):
    issuer, _ = dev_idp
    security = GatewaySecurity({
        "issuers": [{"issuer": issuer, "audience": "urn:kyodo:gateway"}],
        "context_key_file": str(tmp_path / "gateway-key.json"),
    })
    yield security
    await security.close()


def run_kyodo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kyodo", "token", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})


async def test_resident_token_signs_in_that_resident(dev_idp, gateway):
    issuer, _ = dev_idp
    token = await dev_token(issuer, resident=TARO.id)
    principal = await gateway.authenticate(FakeRequest(f"Bearer {token}"))
    assert principal.subject == TARO.id
    assert principal.municipality == TARO.municipality_code
    assert principal.roles == {"resident", "guardian"}
    assert principal.assurance == "password"


async def test_staff_token_carries_their_municipality_and_scopes(dev_idp, gateway):
    issuer, _ = dev_idp
    member = next(s for s in STAFF if s.scopes)
    principal = await gateway.authenticate(FakeRequest(f"Bearer {await dev_token(issuer, staff=member.id)}"))
    assert principal.subject == member.id
    assert principal.roles == {"staff"}
    assert principal.municipality == member.municipality_code
    assert set(member.scopes) <= principal.scopes


async def test_vendor_token_is_the_vendor_client(dev_idp, gateway):
    issuer, _ = dev_idp
    principal = await gateway.authenticate(FakeRequest(f"Bearer {await dev_token(issuer, vendor=True)}"))
    assert principal.roles == {"vendor"}
    assert "currency:merchant" in principal.scopes


async def test_card_token_is_a_card_tap_sign_in(dev_idp, gateway):
    issuer, state = dev_idp
    principal = await gateway.authenticate(
        FakeRequest(f"Bearer {await dev_token(issuer, card=TARO.id, state_dir=state)}")
    )
    assert principal.subject == TARO.id
    assert principal.assurance == "card-tap"


async def test_unknown_and_mismatched_accounts_are_refused(dev_idp):
    issuer, state = dev_idp
    with pytest.raises(DevTokenError, match="unknown resident 'r-nobody'"):
        await dev_token(issuer, resident="r-nobody")
    with pytest.raises(DevTokenError, match="unknown staff"):
        await dev_token(issuer, staff=TARO.id)          # a resident is not staff
    with pytest.raises(DevTokenError, match="unknown resident"):
        await dev_token(issuer, resident=STAFF[0].id)   # and staff are not residents
    infant = next(p for p in ROSTER if not has_demo_card(p))
    with pytest.raises(DevTokenError, match="has no demo card"):
        await dev_token(issuer, card=infant.id, state_dir=state)
    with pytest.raises(DevTokenError, match="choose one"):
        await dev_token(issuer, resident=TARO.id, vendor=True)


async def test_card_needs_the_idps_card_authority(dev_idp, tmp_path):
    issuer, _ = dev_idp
    with pytest.raises(DevTokenError, match="no dev card authority"):
        await dev_token(issuer, card=TARO.id, state_dir=tmp_path)


async def test_wrong_dev_password_is_one_line(dev_idp, monkeypatch):
    issuer, _ = dev_idp
    # Only the CLI side gets it wrong (the IdP in this process reads the same variable).
    import auth.dev_token as module

    monkeypatch.setattr(module, "dev_password", lambda: "wrong")
    with pytest.raises(DevTokenError, match="did not sign in .*wrong dev password"):
        await module.dev_token(issuer, resident=TARO.id)


def test_cli_prints_only_the_token(dev_idp):
    issuer, _ = dev_idp
    completed = run_kyodo("--issuer", issuer, "--vendor")
    assert completed.returncode == 0, completed.stderr
    token = completed.stdout.strip()
    assert token.count(".") == 2 and "\n" not in token


def test_cli_errors_are_one_line_exit_2(dev_idp):
    issuer, _ = dev_idp
    unknown = run_kyodo("--issuer", issuer, "--resident", "r-nobody")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.strip() == (
        "kyodo token: unknown resident 'r-nobody'; `kyodo token --list` shows the demo accounts"
    )
    # Nothing listens on a port we just bound and closed.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    down = run_kyodo("--issuer", dead, "--resident", TARO.id)
    assert down.returncode == 2 and "Traceback" not in down.stderr
    assert down.stderr.startswith(f"kyodo token: no dev IdP answers at {dead}")
    assert len(down.stderr.strip().splitlines()) == 1


def test_list_names_every_demo_account():
    completed = run_kyodo("--list")
    assert completed.returncode == 0, completed.stderr
    # columns are separated by two or more spaces (aligned for kanji names); the first line is the header
    rows = [re.split(r" {2,}", line) for line in completed.stdout.splitlines()[1:]]
    by_id = {row[0]: row for row in rows}
    assert set(ACCOUNTS) <= set(by_id)
    taro = by_id[TARO.id]
    assert taro[1] == TARO.name and taro[2] == f"{TARO.municipality_code} 姫路市"
    assert taro[3] == "resident,guardian" and taro[4] == "yes"
    assert by_id[STAFF[0].id][3] == "staff"
    assert len(demo_accounts()) == len(ROSTER) + len(STAFF)
