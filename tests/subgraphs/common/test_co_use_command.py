"""`kyodo co-use trial …`, `export` and `purge` as an operator runs them (SQLite files under a tmp dir)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kyodo.cli import main
from subgraphs.common.membership_dates import today_in_japan
from subgraphs.common.municipality import INAMI, SANDA, TAKA


@pytest.fixture
def databases(tmp_path, monkeypatch) -> None:
    for name in ("childcare", "safety", "currency", "identity"):
        monkeypatch.setenv(f"KYODO_{name.upper()}_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / f'{name}.sqlite'}")
        monkeypatch.delenv(f"KYODO_{name.upper()}_TRIAL_DATABASE_URL", raising=False)


def test_trial_start_list_and_purge(databases, tmp_path, capsys):
    past = (today_in_japan() - timedelta(days=20)).isoformat()
    assert main(["co-use", "trial", "start", INAMI, "childcare", "--days", "3", "--on", past]) == 0
    assert (tmp_path / "identity-trial.sqlite").exists()           # every platform's sandbox is prepared
    assert main(["co-use", "trial", "list", "childcare"]) == 0
    assert f"childcare  {INAMI} ended" in capsys.readouterr().out
    assert main(["co-use", "trial", "purge"]) == 0                  # the only trial ended: the sandboxes are emptied
    assert "sandbox purged" in capsys.readouterr().out
    assert main(["co-use", "trial", "start", TAKA, "identity", "--days", "7"]) == 0
    assert main(["co-use", "trial", "purge"]) == 1                  # a running trial keeps every sandbox
    assert "trials still run" in capsys.readouterr().err
    assert main(["co-use", "trial", "start", "282227", "identity", "--days", "7"]) == 1   # Yabu: the home city
    assert "home city" in capsys.readouterr().err


def test_export_then_purge_after_the_window(databases, tmp_path, capsys, monkeypatch):
    assert main(["seed", "identity"]) == 0
    left = (today_in_japan() - timedelta(days=10)).isoformat()
    assert main(["co-use", "leave", "identity", SANDA, "--on", left]) == 0
    out = tmp_path / "export"
    assert main(["co-use", "export", SANDA, "identity", "--out", str(out)]) == 0
    assert (out / "manifest.json").exists() and (out / "identity_resident.jsonl").read_text().strip()
    assert main(["co-use", "export", SANDA, "identity", "--out", str(out)]) == 1          # never over an export
    assert main(["co-use", "purge", SANDA, "identity"]) == 1                               # the window is open
    assert "export window lasts until" in capsys.readouterr().err
    monkeypatch.setenv("KYODO_CO_USE_EXPORT_DAYS", "5")
    assert main(["co-use", "purge", SANDA, "identity"]) == 0
    assert "deleted" in capsys.readouterr().out
    assert main(["co-use", "export", SANDA, "identity", "--out", str(tmp_path / "late")]) == 1   # window over
    assert not (tmp_path / "late").exists()


def test_register_client_for_the_dev_idp_and_keycloak(tmp_path, capsys):
    import json

    from auth.idp.registered_clients import RegisteredClients

    assert main(["co-use", "register-client", "282227", "library", "--state-dir", str(tmp_path),
                 "--redirect-uri", "https://library.example.jp/callback", "--keycloak", str(tmp_path / "kc.json")]) == 0
    printed = capsys.readouterr().out
    secret = printed.split("client_secret")[1].split()[0]
    client = RegisteredClients(tmp_path).get("muni-282227-library")
    assert client is not None and client.municipality == "282227"
    assert client.check_client_secret(secret) and not client.check_client_secret(secret + "x")
    assert secret not in (tmp_path / "registered-clients.json").read_text()
    assert (tmp_path / "registered-clients.json").stat().st_mode & 0o077 == 0
    keycloak = json.loads((tmp_path / "kc.json").read_text())
    assert keycloak["clientId"] == "muni-282227-library" and "secret" not in keycloak
    assert keycloak["redirectUris"] == ["https://library.example.jp/callback"]
    assert main(["co-use", "register-client", "282227", "Library!", "--state-dir", str(tmp_path)]) == 1
    assert main(["co-use", "register-client", "282227", "x2", "--state-dir", str(tmp_path),
                 "--redirect-uri", "http://example.jp/cb"]) == 1              # plain http only on loopback
