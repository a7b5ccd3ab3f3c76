"""The case judge must agree with the audit's test.ts on how `{data, errors}` are compared."""

from __future__ import annotations

from bench.audit.case_check import judge


def test_equal_data_passes_whatever_the_key_order():
    expected = {"data": {"user": {"id": "1", "nickname": "user1"}}}
    assert judge(expected, {"data": {"user": {"nickname": "user1", "id": "1"}}}).passed


def test_different_data_fails():
    verdict = judge({"data": {"a": [1, 2]}}, {"data": {"a": [2, 1]}})
    assert not verdict.passed
    assert verdict.reason == "data differs"


def test_errors_ignored_when_the_case_does_not_state_them():
    assert judge({"data": {"a": 1}}, {"data": {"a": 1}, "errors": [{"message": "partial"}]}).passed


def test_errors_true_needs_a_non_empty_error_list():
    assert judge({"data": None, "errors": True}, {"data": None, "errors": [{"message": "x"}]}).passed
    verdict = judge({"data": None, "errors": True}, {"data": None, "errors": []})
    assert not verdict.passed
    assert verdict.reason == "errors expected"


def test_errors_false_rejects_any_error():
    verdict = judge({"data": {"a": 1}, "errors": False}, {"data": {"a": 1}, "errors": [{"message": "x"}]})
    assert not verdict.passed
    assert verdict.reason == "unexpected errors"


def test_missing_data_counts_as_null():
    assert judge({"errors": True}, {"errors": [{"message": "bad"}]}).passed
    assert not judge({"data": {"a": 1}}, {"errors": [{"message": "bad"}]}).passed


def test_numbers_compare_by_value_but_booleans_are_not_numbers():
    assert judge({"data": {"price": 12}}, {"data": {"price": 12.0}}).passed
    assert not judge({"data": {"flag": True}}, {"data": {"flag": 1}}).passed


def test_a_body_that_is_not_an_object_fails():
    assert not judge({"data": None}, ["not", "an", "object"]).passed
