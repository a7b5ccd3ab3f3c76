"""The routine-vaccination schedule as typed data, loaded from data/vaccine_schedule.toml.

The facts live in configuration so a city can correct them without a code change; this module only
gives them types and checks that the file is coherent (dose references, spans) at load time.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from subgraphs.childcare.spans import Span, parse_span

DEFAULT_SCHEDULE_PATH = Path(__file__).parent / "data" / "vaccine_schedule.toml"


@dataclass(frozen=True)
class IntervalRule:
    """Constraint relative to an earlier dose (1-based `dose`) of the same vaccine."""

    dose: int
    minimum: Span | None = None
    standard_min: Span | None = None
    standard_max: Span | None = None


@dataclass(frozen=True)
class AgeWindow:
    """[start, end) by age, or by school years counted from elementary entry (inclusive both ends)."""

    start: Span | None = None
    end: Span | None = None
    school_years: tuple[int, int] | None = None


@dataclass(frozen=True)
class DoseRule:
    number: int
    label: str
    eligible: AgeWindow
    standard: AgeWindow | None
    after: tuple[IntervalRule, ...]
    # A stage that stands on its own (MR 2期, 日本脳炎 2期): due even when earlier doses were missed.
    independent: bool = False


@dataclass(frozen=True)
class Regimen:
    doses: tuple[DoseRule, ...]
    when_first_dose_before: Span | None = None


@dataclass(frozen=True)
class Vaccine:
    code: str
    name: str
    routine: bool
    sexes: frozenset[int] | None  # ISO 5218 codes it is routine for; None = everyone
    regimens: tuple[Regimen, ...]


@dataclass(frozen=True)
class Schedule:
    vaccines: tuple[Vaccine, ...]
    injectable_live: frozenset[str]
    live_min_interval: Span

    def vaccine(self, code: str) -> Vaccine | None:
        return next((v for v in self.vaccines if v.code == code), None)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(v.code for v in self.vaccines)


def _span(value: object, where: str) -> Span | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a span string, got {value!r}")
    try:
        return parse_span(value)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _window(raw: dict, defaults: AgeWindow, prefix: str, where: str) -> AgeWindow:
    """Read `{prefix}_from`, `{prefix}_until`, `{prefix}_school_years`, falling back to `defaults`."""
    years = raw.get(f"{prefix}_school_years")
    if years is not None:
        start_year, end_year = (int(y) for y in years)
        return AgeWindow(school_years=(start_year, end_year))
    start = _span(raw.get(f"{prefix}_from"), f"{where}.{prefix}_from")
    end = _span(raw.get(f"{prefix}_until"), f"{where}.{prefix}_until")
    if start is None and end is None:
        return defaults
    return AgeWindow(start=start or defaults.start, end=end or defaults.end)


def _dose(raw: dict, number: int, vaccine_eligible: AgeWindow, vaccine_standard: AgeWindow | None,
          where: str) -> DoseRule:
    eligible = _window(raw, vaccine_eligible, "eligible", where)
    standard = _window(raw, vaccine_standard or AgeWindow(), "standard", where)
    after = []
    for index, rule in enumerate(raw.get("after", [])):
        ref = int(rule["dose"])
        if not 1 <= ref < number:
            raise ValueError(f"{where}.after[{index}]: dose {ref} is not an earlier dose")
        after.append(IntervalRule(
            dose=ref,
            minimum=_span(rule.get("min"), f"{where}.after[{index}].min"),
            standard_min=_span(rule.get("standard_min"), f"{where}.after[{index}].standard_min"),
            standard_max=_span(rule.get("standard_max"), f"{where}.after[{index}].standard_max"),
        ))
    has_standard = standard != AgeWindow()
    return DoseRule(number=number, label=str(raw.get("label", f"{number}回目")), eligible=eligible,
                    standard=standard if has_standard else None, after=tuple(after),
                    independent=bool(raw.get("independent", False)))


def parse_schedule(data: dict) -> Schedule:
    """Build a Schedule from the parsed TOML mapping; raises ValueError naming the bad entry."""
    vaccines = []
    for raw in data.get("vaccine", []):
        code = str(raw["code"])
        where = f"vaccine {code}"
        eligible = _window(raw, AgeWindow(), "eligible", where)
        standard = _window(raw, AgeWindow(), "standard", where)
        regimens = []
        for r_index, raw_regimen in enumerate(raw.get("regimen", [])):
            doses = tuple(
                # a vaccine-level standard window is when to *start*: it applies to the first dose only
                _dose(raw_dose, n, eligible, standard if n == 1 and standard != AgeWindow() else None,
                      f"{where}.regimen[{r_index}].dose[{n}]")
                for n, raw_dose in enumerate(raw_regimen.get("dose", []), start=1)
            )
            regimens.append(Regimen(doses=doses, when_first_dose_before=_span(
                raw_regimen.get("when_first_dose_before"), f"{where}.regimen[{r_index}]")))
        sexes = raw.get("sex")
        vaccines.append(Vaccine(
            code=code, name=str(raw.get("name", code)), routine=bool(raw.get("routine", True)),
            sexes=frozenset(int(s) for s in sexes) if sexes is not None else None,
            regimens=tuple(regimens),
        ))
    spacing = data.get("live_vaccine_spacing", {})
    live = frozenset(str(c) for c in spacing.get("injectable_live", []))
    codes = {v.code for v in vaccines}
    unknown = live - codes
    if unknown:
        raise ValueError(f"live_vaccine_spacing names unknown vaccines: {sorted(unknown)}")
    return Schedule(vaccines=tuple(vaccines), injectable_live=live,
                    live_min_interval=_span(spacing.get("min_interval", "27d"), "live_vaccine_spacing") or Span())


@lru_cache(maxsize=4)
def load_schedule(path: Path = DEFAULT_SCHEDULE_PATH) -> Schedule:
    with open(path, "rb") as handle:
        return parse_schedule(tomllib.load(handle))
