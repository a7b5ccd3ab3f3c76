"""`kyodo usage report --month YYYY-MM`: CSV and PNG per municipality × platform × connected application."""

from __future__ import annotations

import asyncio
import csv
from datetime import date

import pytest

from kyodo.cli import main
from subgraphs.common.db import Database
from subgraphs.common.usage_counting import Caller, record_use
from subgraphs.common.usage_report import COLUMNS

MONTH = "2026-11"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def databases(tmp_path, monkeypatch) -> dict[str, str]:
    urls = {}
    for name in ("childcare", "safety", "currency", "identity"):
        urls[name] = f"sqlite+aiosqlite:///{tmp_path / f'{name}.sqlite'}"
        monkeypatch.setenv(f"KYODO_{name.upper()}_DATABASE_URL", urls[name])
    return urls


async def _uses(url: str, name: str, uses: list[tuple[str, str, str, date]]) -> None:
    database = Database(name, url)
    try:
        async with database.transaction() as session:
            for municipality, client, who, day in uses:
                await record_use(session, name, municipality, caller=Caller(who, client), day=day)
    finally:
        await database.dispose()


def _arrange(databases: dict[str, str]) -> None:
    assert main(["migrate"]) == 0
    spam = [("282014", "kyodo-web", "spammer", date(2026, 11, 3))] * 50     # one resident, 50 identical queries
    asyncio.run(_uses(databases["childcare"], "childcare", spam + [
        ("282014", "kyodo-web", "a", date(2026, 11, 3)), ("282014", "himeji-app", "a", date(2026, 11, 3)),
        ("282103", "kyodo-web", "b", date(2026, 11, 4)), ("282103", "kyodo-web", "b", date(2026, 11, 5)),
        ("282014", "kyodo-web", "late", date(2026, 12, 1))]))                # next month: not in the report
    asyncio.run(_uses(databases["safety"], "safety", [
        ("282189", "kyodo-web", "ono", date(2026, 11, 10)), ("282103", "kyodo-card-reader", "k", date(2026, 11, 10))]))


def test_report_csv_counts_distinct_principal_days_per_application(databases, tmp_path, capsys):
    _arrange(databases)
    capsys.readouterr()
    assert main(["usage", "report", "--month", MONTH, "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    csv_path, png_path = tmp_path / "out" / f"usage-{MONTH}.csv", tmp_path / "out" / f"usage-{MONTH}.png"
    assert str(csv_path) in printed and str(png_path) in printed
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                         # BOM: Excel on Japanese Windows reads UTF-8
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert tuple(rows[0]) == COLUMNS
    table = [(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in rows[1:]]
    assert table == [
        ("childcare", "282014", "姫路市", "Himeji", "himeji-app", "1", "1", "60.0"),
        ("childcare", "282014", "姫路市", "Himeji", "kyodo-web", "2", "2", "60.0"),
        ("childcare", "282103", "加古川市", "Kakogawa", "kyodo-web", "2", "1", "40.0"),
        ("safety", "282103", "加古川市", "Kakogawa", "kyodo-card-reader", "1", "1", "50.0"),
        ("safety", "282189", "小野市", "Ono", "kyodo-web", "1", "1", "50.0"),
    ]
    assert png_path.read_bytes().startswith(PNG_SIGNATURE)


def test_png_is_a_readable_chart(databases, tmp_path):
    from matplotlib import image

    _arrange(databases)
    assert main(["usage", "report", "--month", MONTH, "--out", str(tmp_path), "--format", "png"]) == 0
    pixels = image.imread(tmp_path / f"usage-{MONTH}.png")
    height, width = pixels.shape[:2]
    assert width >= 1200 and height >= 600                          # large enough to paste into an A4 document
    assert not (tmp_path / f"usage-{MONTH}.csv").exists()
    colours = {tuple(round(float(c), 2) for c in pixel[:3]) for pixel in pixels[::7, ::7].reshape(-1, pixels.shape[2])}
    assert len(colours) > 10                                        # bars, text and axes, not a blank page


def test_an_empty_month_and_bad_arguments(databases, tmp_path, capsys):
    assert main(["migrate"]) == 0
    assert main(["usage", "report", "--month", "2030-01", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "usage-2030-01.csv").read_text(encoding="utf-8-sig").strip() == ",".join(COLUMNS)
    assert (tmp_path / "usage-2030-01.png").read_bytes().startswith(PNG_SIGNATURE)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["usage", "report", "--month", "2026-13"])
    assert exit_.value.code == 2 and "YYYY-MM" in capsys.readouterr().err


def test_plain_kyodo_usage_still_lists_the_counters(databases, capsys):
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["usage", "--period", MONTH]) == 0
    assert "platform" in capsys.readouterr().out


def test_trial_use_is_reported_apart_and_enters_no_share(databases, tmp_path):
    from subgraphs.common.db import upgrade
    from subgraphs.common.sandbox import sandbox_url

    _arrange(databases)
    sandbox = sandbox_url("childcare", databases["childcare"])
    assert sandbox.endswith("childcare-trial.sqlite")
    upgrade("childcare", sandbox)
    asyncio.run(_uses(sandbox, "childcare", [("283657", "kyodo-web", "t", date(2026, 11, 6)),
                                             ("283657", "kyodo-web", "u", date(2026, 11, 6))]))
    assert main(["usage", "report", "--month", MONTH, "--out", str(tmp_path / "out"), "--format", "csv"]) == 0
    rows = list(csv.reader((tmp_path / "out" / f"usage-{MONTH}.csv").read_text(encoding="utf-8-sig").splitlines()))
    real = [r for r in rows[1:] if r[9] == "real"]
    assert [r[8] for r in real if r[1] == "childcare"] == ["60.0", "60.0", "40.0"]     # shares as without the trial
    assert [r for r in rows[1:] if r[9] == "trial"] == [
        [MONTH, "childcare", "283657", "多可町", "Taka", "kyodo-web", "2", "2", "", "trial"]]
    assert rows[-1][9] == "trial"                                                      # after the real lines
