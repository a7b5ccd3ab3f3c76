"""The subgraph commands: migrate/seed, audit verify naming a tampered record, import dispatch, and `kyodo dev`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from sqlalchemy import delete, update

from kyodo.cli import main
from subgraphs.common import audit
from subgraphs.common.audit import AuditRecord
from subgraphs.common.db import Database
from deploy.free_port import free_port as _free_port


@pytest.fixture
def identity_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'identity.sqlite'}"
    monkeypatch.setenv("KYODO_IDENTITY_DATABASE_URL", url)
    return url


def _write_audit(url: str, count: int) -> None:
    async def write() -> None:
        database = Database("identity", url)
        for n in range(count):
            async with database.transaction() as session:
                await audit.record(session, "s-staff", f"r-{n}", ["name"], "test", "permitted", subgraph="identity")
        await database.dispose()

    asyncio.run(write())


def _tamper(url: str, statement) -> None:  # noqa: ANN001
    async def run() -> None:
        database = Database("identity", url)
        async with database.transaction() as session:
            await session.execute(statement)
        await database.dispose()

    asyncio.run(run())


def test_seed_is_repeatable_and_audit_verify_names_an_edited_record(identity_url, capsys):
    assert main(["seed", "identity"]) == 0
    assert main(["seed", "identity"]) == 0
    assert "identity: seeded" in capsys.readouterr().out
    _write_audit(identity_url, 4)
    assert main(["audit", "verify", "--subgraph", "identity"]) == 0
    out = capsys.readouterr().out
    assert "identity: audit chain intact (4 records, head " in out
    _tamper(identity_url, update(AuditRecord).where(AuditRecord.id == 3).values(purpose="nothing to see"))
    assert main(["audit", "verify", "--subgraph", "identity"]) == 1
    assert "identity: audit record 3 edited" in capsys.readouterr().out


def test_audit_verify_names_a_deleted_record(identity_url, capsys):
    assert main(["migrate", "identity"]) == 0
    _write_audit(identity_url, 3)
    _tamper(identity_url, delete(AuditRecord).where(AuditRecord.id == 2))
    assert main(["audit", "verify", "--subgraph", "identity"]) == 1
    assert "identity: audit record 2 deleted" in capsys.readouterr().out


def test_unknown_names_and_kinds_are_usage_errors():
    for argv in (["seed", "nowhere"], ["migrate", "x"], ["import", "cats", "f.csv"], ["subgraph", "bank", "--port", "1"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2


def test_import_of_a_missing_file_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KYODO_SAFETY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'safety.sqlite'}")
    assert main(["import", "aed", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err
    assert "missing.csv" in err and "Traceback" not in err




def _post(url: str, query: str, headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps({"query": query}).encode(),
                                     headers={"content-type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def test_kyodo_dev_starts_the_stack_and_stops_it_on_sigterm(tmp_path):
    ports = {name: _free_port() for name in ("gateway", "idp", "childcare", "safety", "currency", "identity")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYODO_")}
    env["KYODO_HOME"] = str(tmp_path / "home")
    argv = [sys.executable, "-m", "kyodo", "dev", "--gateway-port", str(ports["gateway"]), "--idp-port",
            str(ports["idp"])] + [f"--subgraph-port={n}={ports[n]}" for n in ("childcare", "safety", "currency", "identity")]
    (tmp_path / "elsewhere").mkdir()
    process = subprocess.Popen(argv, cwd=tmp_path / "elsewhere", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "kyodo dev: ready" in line:
                break
        assert any("kyodo dev: ready" in line for line in lines), "".join(lines[-30:])
        identity = f"http://127.0.0.1:{ports['identity']}/graphql"
        assert _post(identity, '{ municipality(code: "28222") { name } }') == {"data": {"municipality": {"name": "養父市"}}}
        if any(line.strip().startswith("gateway") for line in lines):
            body = _post(f"http://127.0.0.1:{ports['gateway']}/graphql",
                         "{ municipalities { code name } shelters { id occupancy { persons } } }")
            assert {"code": "282227", "name": "養父市"} in body["data"]["municipalities"]
            assert all(s["occupancy"]["persons"] == 0 for s in body["data"]["shelters"])
            # the dev config turns plan exposure on, as the README promises
            planned = _post(f"http://127.0.0.1:{ports['gateway']}/graphql", "{ municipalities { code } }",
                            {"apollo-expose-query-plan": "true"})
            assert "Fetch" in planned["extensions"]["apolloQueryPlan"]["text"]
            # the currency grant relay runs beside the gateway once the IdP is up
            assert any(line.strip().startswith("relay") for line in lines), "".join(lines[-30:])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 0
    # everything landed in KYODO_HOME, nothing in the directory it ran from
    assert (tmp_path / "home" / "var" / "identity.sqlite").is_file()
    assert (tmp_path / "home" / "var" / "dev" / "gateway.toml").is_file()
    assert list((tmp_path / "elsewhere").iterdir()) == []
    for name, port in ports.items():
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"{name} still listening on {port}"


def test_usage_report_lists_counters_per_municipality(identity_url, capsys):
    from subgraphs.common import co_use
    from subgraphs.common.usage_counting import bind_caller
    from tests.subgraphs.conftest import make_principal

    assert main(["migrate", "identity"]) == 0

    async def count() -> None:
        database = Database("identity", identity_url)
        async with database.transaction() as session:   # two different callers (uses count per caller and day)
            bind_caller(make_principal("r-one", "282014"))
            await co_use.count_usage(session, "identity", "282014", records=3, period="2026-11")
            bind_caller(make_principal("r-two", "282014"))
            await co_use.count_usage(session, "identity", "282014", records=2, period="2026-11")
        await database.dispose()

    asyncio.run(count())
    capsys.readouterr()
    assert main(["usage", "--subgraph", "identity", "--period", "2026-11"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert rows == [["identity", "identity", "2026-11", "282014", "姫路市", "2", "5"]]


def test_a_second_kyodo_dev_says_the_port_is_taken_and_starts_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KYODO_HOME", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        free = {n: _free_port() for n in ("idp", "childcare", "safety", "currency", "identity")}
        argv = ["dev", "--gateway-port", str(port), "--idp-port", str(free["idp"])] + [
            f"--subgraph-port={n}={free[n]}" for n in ("childcare", "safety", "currency", "identity")]
        assert main(argv) == 1
    captured = capsys.readouterr()
    assert f"already in use on 127.0.0.1: gateway {port}" in captured.err
    assert "Another kyodo dev" in captured.err and "ready" not in captured.out
    assert not (tmp_path / "var").exists()   # nothing migrated or seeded


def test_import_from_another_directory_uses_kyodo_home(tmp_path, monkeypatch, capsys):
    for name in ("SAFETY", "CHILDCARE", "CURRENCY", "IDENTITY"):
        monkeypatch.delenv(f"KYODO_{name}_DATABASE_URL", raising=False)
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("KYODO_HOME", str(home))
    monkeypatch.chdir(elsewhere)
    csv = elsewhere / "aed.csv"
    csv.write_text("全国地方公共団体コード,ID,名称,設置位置\n282103,A1,試験センター,玄関\n", encoding="utf-8")
    assert main(["import", "aed", "aed.csv"]) == 0
    assert "1 inserted" in capsys.readouterr().out
    assert (home / "var" / "safety.sqlite").is_file()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["aed.csv"]
    assert "KYODO_SAFETY_DATABASE_URL" not in os.environ   # the default lasted one command


def test_import_is_all_or_nothing_unless_partial(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KYODO_SAFETY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'safety.sqlite'}")
    csv = tmp_path / "aed.csv"
    csv.write_text("都道府県コード又は市区町村コード,NO,名称,設置位置\n28210,A1,一,玄関\n28210,A2,,玄関\n", encoding="utf-8")
    assert main(["import", "aed", str(csv)]) == 1
    out = capsys.readouterr().out
    assert "nothing imported" in out and "line 3: 名称: empty" in out
    assert main(["import", "aed", str(csv), "--partial"]) == 1
    assert "1 inserted" in capsys.readouterr().out
    assert main(["import", "aed", str(csv), "--partial"]) == 1
    assert "1 unchanged" in capsys.readouterr().out
