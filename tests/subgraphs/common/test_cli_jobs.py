"""`kyodo currency expire` (nightly expiry with a report) and `kyodo relay grants` failing cleanly."""

from __future__ import annotations

from datetime import date

import pytest

from kyodo.cli import main
from subgraphs.common.roster import ROSTER


@pytest.fixture
def currency_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'currency.sqlite'}"
    monkeypatch.setenv("KYODO_CURRENCY_DATABASE_URL", url)
    return url


def test_currency_expire_reports_each_account_once(currency_url, capsys):
    assert main(["seed", "currency"]) == 0
    capsys.readouterr()
    assert main(["currency", "expire", "--date", "2027-04-01"]) == 0
    out = capsys.readouterr().out
    adults = [p for p in ROSTER if p.age_on(date(2026, 4, 1)) >= 18]
    # per adult: walking 50 + 50, health checkup 500 and online application 100 expire (see test_expiry_job.py)
    assert f"{len(adults) * 700} かさいポイント expired on {len(adults)} account(s)" in out
    for person in adults:
        assert f"  {person.id}  ({person.municipality_code})  -700 かさいポイント  balance 200" in out
    assert main(["currency", "expire", "--date", "2027-04-01"]) == 0
    assert "nothing was due: no points expired" in capsys.readouterr().out


def test_currency_expire_refuses_a_bad_date(currency_url, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["currency", "expire", "--date", "2027-13-01"])
    assert exit_.value.code == 2
    assert "not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_relay_grants_without_an_idp_is_one_line_and_exit_1(monkeypatch, capsys):
    monkeypatch.setenv("KYODO_RELAY_ISSUER", "http://127.0.0.1:9")
    assert main(["relay", "grants", "--gateway", "http://127.0.0.1:9/graphql"]) == 1
    err = capsys.readouterr().err
    assert "relay round failed: cannot reach the IdP at http://127.0.0.1:9" in err
    assert "Traceback" not in err
    assert main(["relay", "grants", "--every", "0"]) == 2
