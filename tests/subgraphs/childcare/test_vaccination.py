"""Next-due routine vaccinations, vaccine by vaccine, with the edge days of each rule."""

from __future__ import annotations

from datetime import date

import pytest

from subgraphs.childcare.schedule import load_schedule, parse_schedule
from subgraphs.childcare.vaccination import DoseStatus, DueDose, GivenDose, next_due_doses

SCHEDULE = load_schedule()
BIRTH = date(2025, 1, 15)
GIRL_BIRTH = date(2013, 5, 10)   # enters school 2020-04-01: 小6 from 2025-04-01, 高1 ends 2030-03-31


def given(*pairs: tuple[str, date]) -> list[GivenDose]:
    return [GivenDose(code, day) for code, day in pairs]


def due(code: str, today: date, doses: list[GivenDose] | None = None, *, birth: date = BIRTH,
        sex: int = 1) -> list[DueDose]:
    return [d for d in next_due_doses(SCHEDULE, birth, sex, doses or [], today) if d.vaccine_code == code]


def only(code: str, today: date, doses: list[GivenDose] | None = None, **kwargs) -> DueDose:
    found = due(code, today, doses, **kwargs)
    assert len(found) == 1, found
    return found[0]


# --- B型肝炎 -----------------------------------------------------------------------------------------------

def test_hepb_first_dose_window_and_standard() -> None:
    first = only("HEPB", date(2025, 3, 20))
    assert (first.dose_number, first.status) == (1, DoseStatus.DUE)
    assert first.earliest == BIRTH and first.deadline == date(2026, 1, 14)
    assert (first.standard_from, first.standard_until) == (date(2025, 3, 15), date(2025, 4, 14))


def test_hepb_second_dose_27_days_after_first() -> None:
    doses = given(("HEPB", date(2025, 3, 15)))
    assert only("HEPB", date(2025, 4, 11), doses).status is DoseStatus.UPCOMING
    second = only("HEPB", date(2025, 4, 12), doses)
    assert (second.dose_number, second.earliest, second.status) == (2, date(2025, 4, 12), DoseStatus.DUE)
    assert "interval after dose 1" in second.reason


def test_hepb_third_dose_139_days_after_first() -> None:
    doses = given(("HEPB", date(2025, 3, 15)), ("HEPB", date(2025, 4, 12)))
    third = only("HEPB", date(2025, 6, 1), doses)
    assert (third.dose_number, third.earliest) == (3, date(2025, 8, 2))
    assert third.status is DoseStatus.UPCOMING


def test_hepb_eligibility_ends_before_first_birthday() -> None:
    doses = given(("HEPB", date(2025, 3, 15)))
    assert only("HEPB", date(2026, 1, 14), doses).status is DoseStatus.DUE
    assert only("HEPB", date(2026, 1, 15), doses).status is DoseStatus.MISSED


def test_hepb_complete_series_has_nothing_due() -> None:
    doses = given(("HEPB", date(2025, 3, 15)), ("HEPB", date(2025, 4, 12)), ("HEPB", date(2025, 8, 2)))
    assert due("HEPB", date(2025, 9, 1), doses) == []


# --- ロタ (1価) ---------------------------------------------------------------------------------------------

def test_rota_opens_at_six_weeks() -> None:
    assert only("ROTA1", date(2025, 2, 25)).status is DoseStatus.UPCOMING
    first = only("ROTA1", date(2025, 2, 26))
    assert (first.earliest, first.status, first.standard_from) == (date(2025, 2, 26), DoseStatus.DUE, date(2025, 3, 15))


def test_rota_first_dose_by_14_weeks_6_days() -> None:
    assert only("ROTA1", date(2025, 4, 29)).deadline == date(2025, 4, 29)
    assert only("ROTA1", date(2025, 4, 29)).status is DoseStatus.DUE
    late = only("ROTA1", date(2025, 4, 30))
    assert (late.dose_number, late.status) == (1, DoseStatus.MISSED)   # and no second dose is offered


def test_rota_second_dose_interval_and_24_week_end() -> None:
    second = only("ROTA1", date(2025, 4, 12), given(("ROTA1", date(2025, 3, 15))))
    assert (second.dose_number, second.earliest, second.deadline) == (2, date(2025, 4, 12), date(2025, 7, 1))
    assert only("ROTA1", date(2025, 7, 2), given(("ROTA1", date(2025, 3, 15)))).status is DoseStatus.MISSED


def test_rota_is_oral_so_live_spacing_does_not_apply() -> None:
    second = only("ROTA1", date(2025, 4, 12), given(("ROTA1", date(2025, 3, 15)), ("BCG", date(2025, 4, 1))))
    assert second.earliest == date(2025, 4, 12)


# --- 小児用肺炎球菌 -------------------------------------------------------------------------------------------

def test_pcv_primary_series_intervals() -> None:
    doses = given(("PCV", date(2025, 3, 15)))
    assert only("PCV", date(2025, 4, 1), doses).earliest == date(2025, 4, 12)
    doses += given(("PCV", date(2025, 4, 12)))
    third = only("PCV", date(2025, 5, 1), doses)
    assert (third.dose_number, third.earliest) == (3, date(2025, 5, 10))


def test_pcv_booster_not_before_twelve_months() -> None:
    doses = given(("PCV", date(2025, 3, 15)), ("PCV", date(2025, 4, 12)), ("PCV", date(2025, 5, 10)))
    booster = only("PCV", date(2025, 12, 1), doses)
    assert (booster.dose_number, booster.label, booster.earliest) == (4, "追加", date(2026, 1, 15))
    assert (booster.standard_from, booster.standard_until) == (date(2026, 1, 15), date(2026, 4, 14))
    assert booster.status is DoseStatus.UPCOMING


def test_pcv_booster_60_days_after_third_when_later() -> None:
    doses = given(("PCV", date(2025, 10, 1)), ("PCV", date(2025, 11, 1)), ("PCV", date(2025, 12, 1)))
    booster = only("PCV", date(2026, 1, 20), doses)
    assert booster.earliest == date(2026, 1, 31)
    assert "dose 3" in booster.reason


def test_pcv_ends_before_fifth_birthday() -> None:
    assert only("PCV", date(2030, 1, 14)).status is DoseStatus.DUE
    assert only("PCV", date(2030, 1, 15)).status is DoseStatus.MISSED


# --- 五種混合 -------------------------------------------------------------------------------------------------

def test_five_in_one_primary_interval_20_to_56_days() -> None:
    second = only("DPT_IPV_HIB", date(2025, 4, 1), given(("DPT_IPV_HIB", date(2025, 3, 15))))
    assert (second.earliest, second.standard_from, second.standard_until) == (
        date(2025, 4, 5), date(2025, 4, 5), date(2025, 5, 11))


def test_five_in_one_booster_six_to_eighteen_months_after_third() -> None:
    doses = given(("DPT_IPV_HIB", date(2025, 3, 15)), ("DPT_IPV_HIB", date(2025, 4, 12)),
                  ("DPT_IPV_HIB", date(2025, 5, 10)))
    booster = only("DPT_IPV_HIB", date(2025, 11, 9), doses)
    assert (booster.label, booster.earliest, booster.status) == ("1期追加", date(2025, 11, 10), DoseStatus.UPCOMING)
    assert booster.standard_until == date(2026, 11, 9)
    assert booster.deadline == date(2032, 7, 14)   # < 7 y 6 m


# --- BCG -----------------------------------------------------------------------------------------------------

def test_bcg_standard_window_and_deadline() -> None:
    bcg = only("BCG", date(2025, 6, 1))
    assert (bcg.standard_from, bcg.standard_until, bcg.deadline) == (date(2025, 6, 15), date(2025, 9, 14),
                                                                     date(2026, 1, 14))
    assert only("BCG", date(2026, 1, 15)).status is DoseStatus.MISSED


# --- MR and live-vaccine spacing ------------------------------------------------------------------------------

def test_mr_first_stage_from_first_birthday() -> None:
    mr = only("MR", date(2026, 1, 15))
    assert (mr.label, mr.earliest, mr.deadline, mr.status) == ("1期", date(2026, 1, 15), date(2027, 1, 14),
                                                               DoseStatus.DUE)


def test_live_vaccine_spacing_after_bcg() -> None:
    mr = only("MR", date(2026, 1, 20), given(("BCG", date(2025, 12, 30))))
    assert mr.earliest == date(2026, 1, 27)
    assert "BCG" in mr.reason
    assert mr.status is DoseStatus.UPCOMING


def test_live_vaccine_spacing_is_27_days_between() -> None:
    doses = given(("VARICELLA", date(2026, 1, 20)))
    assert only("MR", date(2026, 2, 16), doses).status is DoseStatus.UPCOMING
    assert only("MR", date(2026, 2, 17), doses).status is DoseStatus.DUE


def test_live_spacing_counts_voluntary_mumps() -> None:
    assert only("VARICELLA", date(2026, 2, 1), given(("MUMPS", date(2026, 1, 20)))).earliest == date(2026, 2, 17)


def test_inactivated_vaccines_ignore_live_spacing() -> None:
    assert only("PCV", date(2025, 4, 1), given(("BCG", date(2025, 3, 20)))).earliest == date(2025, 3, 15)


def test_mr_second_stage_is_the_year_before_school() -> None:
    second = only("MR", date(2030, 4, 1), given(("MR", date(2026, 1, 20))))
    assert (second.label, second.earliest, second.deadline) == ("2期", date(2030, 4, 1), date(2031, 3, 31))
    assert only("MR", date(2030, 3, 31), given(("MR", date(2026, 1, 20)))).status is DoseStatus.UPCOMING


def test_missed_first_stage_still_offers_second_stage() -> None:
    found = due("MR", date(2030, 5, 1))
    assert [(d.label, d.status) for d in found] == [("1期", DoseStatus.MISSED), ("2期", DoseStatus.DUE)]


def test_dose_in_second_stage_window_counts_as_second_stage() -> None:
    # no 1期; an MR dose in the year before school is 2期, so the series is done
    assert due("MR", date(2030, 6, 1), given(("MR", date(2030, 5, 1)))) == []


def test_late_first_stage_dose_stays_first_stage() -> None:
    second = only("MR", date(2027, 6, 1), given(("MR", date(2027, 3, 1))))   # after 2y: voluntary 1期
    assert (second.label, second.status) == ("2期", DoseStatus.UPCOMING)


# --- 水痘 -----------------------------------------------------------------------------------------------------

def test_varicella_second_dose_three_months_after_first() -> None:
    second = only("VARICELLA", date(2026, 3, 1), given(("VARICELLA", date(2026, 1, 15))))
    assert (second.earliest, second.standard_from, second.standard_until) == (
        date(2026, 4, 15), date(2026, 7, 15), date(2027, 1, 14))


def test_varicella_ends_before_third_birthday() -> None:
    assert only("VARICELLA", date(2028, 1, 15)).status is DoseStatus.MISSED


# --- 日本脳炎 ---------------------------------------------------------------------------------------------------

def test_je_opens_at_six_months_standard_at_three_years() -> None:
    first = only("JE", date(2025, 8, 1))
    assert (first.earliest, first.standard_from, first.standard_until) == (date(2025, 7, 15), date(2028, 1, 15),
                                                                          date(2029, 1, 14))


def test_je_second_dose_6_to_28_days() -> None:
    second = only("JE", date(2028, 1, 20), given(("JE", date(2028, 1, 15))))
    assert (second.earliest, second.standard_until) == (date(2028, 1, 22), date(2028, 2, 13))


def test_je_booster_six_months_minimum_a_year_standard() -> None:
    booster = only("JE", date(2028, 3, 1), given(("JE", date(2028, 1, 15)), ("JE", date(2028, 2, 1))))
    assert (booster.label, booster.earliest) == ("1期追加", date(2028, 8, 1))
    assert (booster.standard_from, booster.standard_until) == (date(2029, 2, 1), date(2030, 1, 14))


def test_je_second_stage_after_missed_first_stage() -> None:
    found = due("JE", date(2034, 2, 1))
    assert [(d.label, d.status) for d in found] == [("1期初回1回目", DoseStatus.MISSED), ("2期", DoseStatus.DUE)]
    assert found[1].deadline == date(2038, 1, 14)


# --- 二種混合 --------------------------------------------------------------------------------------------------

def test_dt_window() -> None:
    dt = only("DT", date(2036, 1, 15))
    assert (dt.earliest, dt.deadline, dt.status) == (date(2036, 1, 15), date(2038, 1, 14), DoseStatus.DUE)
    assert only("DT", date(2036, 1, 14)).status is DoseStatus.UPCOMING


# --- HPV -------------------------------------------------------------------------------------------------------

def test_hpv_is_routine_for_girls_only() -> None:
    assert due("HPV", date(2025, 6, 1), birth=GIRL_BIRTH, sex=1) == []
    hpv = only("HPV", date(2025, 6, 1), birth=GIRL_BIRTH, sex=2)
    assert (hpv.earliest, hpv.deadline, hpv.status) == (date(2025, 4, 1), date(2030, 3, 31), DoseStatus.DUE)
    assert (hpv.standard_from, hpv.standard_until) == (date(2026, 4, 1), date(2027, 3, 31))


def test_hpv_two_doses_when_started_before_fifteen() -> None:
    doses = given(("HPV", date(2026, 5, 1)))
    second = only("HPV", date(2026, 6, 1), doses, birth=GIRL_BIRTH, sex=2)
    assert (second.dose_number, second.earliest, second.standard_from) == (2, date(2026, 10, 1), date(2026, 11, 1))
    doses += given(("HPV", date(2026, 11, 1)))
    assert due("HPV", date(2027, 1, 1), doses, birth=GIRL_BIRTH, sex=2) == []


def test_hpv_three_doses_when_started_at_fifteen() -> None:
    doses = given(("HPV", date(2028, 6, 1)))
    assert only("HPV", date(2028, 6, 2), doses, birth=GIRL_BIRTH, sex=2).earliest == date(2028, 7, 1)
    doses += given(("HPV", date(2028, 8, 1)))
    third = only("HPV", date(2028, 9, 1), doses, birth=GIRL_BIRTH, sex=2)
    assert (third.dose_number, third.earliest, third.standard_from) == (3, date(2028, 11, 1), date(2028, 12, 1))


def test_hpv_eligibility_ends_with_high_school_first_year() -> None:
    assert only("HPV", date(2030, 3, 31), birth=GIRL_BIRTH, sex=2).status is DoseStatus.DUE
    assert only("HPV", date(2030, 4, 1), birth=GIRL_BIRTH, sex=2).status is DoseStatus.MISSED


# --- configuration -----------------------------------------------------------------------------------------------

def test_schedule_is_configuration() -> None:
    custom = parse_schedule({
        "live_vaccine_spacing": {"injectable_live": ["X"], "min_interval": "6d"},
        "vaccine": [{"code": "X", "name": "x", "eligible_from": "1m", "eligible_until": "2m",
                     "regimen": [{"dose": [{"label": "a"}, {"label": "b", "after": [{"dose": 1, "min": "3d"}]}]}]}],
    })
    [second] = next_due_doses(custom, BIRTH, 1, given(("X", date(2025, 2, 20))), date(2025, 2, 22))
    assert (second.earliest, second.deadline) == (date(2025, 2, 24), date(2025, 3, 14))


@pytest.mark.parametrize("bad", [
    {"vaccine": [{"code": "X", "eligible_from": "soon", "regimen": []}]},
    {"vaccine": [{"code": "X", "regimen": [{"dose": [{"after": [{"dose": 1, "min": "3d"}]}]}]}]},
    {"live_vaccine_spacing": {"injectable_live": ["NOPE"]}},
])
def test_incoherent_schedule_is_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        parse_schedule(bad)
