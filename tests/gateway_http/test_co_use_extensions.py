"""The gateway passes `extensions.coUse` from the subgraphs through, merged, and nothing else of theirs."""

from __future__ import annotations

from auth.principal import Principal
from gateway.plugins.co_use_extensions import CoUseExtensionsPlugin, merge_co_use
from gateway.plugins.protocol import ExecutionEvent, RequestState, SubgraphRequest, SubgraphResponse

CHILDCARE = {"platform": "childcare", "municipality": "283657", "startsOn": "2026-12-02", "endsOn": "2026-12-15",
             "active": True}
SAFETY = {**CHILDCARE, "platform": "safety"}


def _state(principal=None) -> RequestState:  # noqa: ANN001
    return RequestState(request_id="r", method="POST", path="/graphql", headers={}, started=0.0, principal=principal)


async def _answer(plugin: CoUseExtensionsPlugin, state: RequestState, *responses: dict) -> dict:
    for response in responses:
        request = SubgraphRequest(state, "childcare", "{ x }", None, None)
        await plugin.subgraph_response(SubgraphResponse(request, response, None, 0.01))
    result = {"data": {"x": 1}, "extensions": {"valueCompletion": []}}
    await plugin.execution(ExecutionEvent(state, None, result))
    return result


async def test_trials_of_several_subgraphs_are_merged_and_other_extensions_stay_behind():
    result = await _answer(CoUseExtensionsPlugin(), _state(),
                           {"data": {}, "extensions": {"coUse": {"sandbox": True, "trials": [SAFETY]},
                                                       "tracing": {"secret": "subgraph internals"}}},
                           {"data": {}, "extensions": {"coUse": {"sandbox": True, "trials": [CHILDCARE]}}},
                           {"data": {}})
    assert result["extensions"]["coUse"] == {"sandbox": True, "trials": [CHILDCARE, SAFETY]}
    assert result["extensions"]["valueCompletion"] == []          # the gateway's own extensions are kept
    assert "tracing" not in result["extensions"]


async def test_a_trial_caller_is_marked_even_when_no_subgraph_was_asked():
    trial = Principal("t-1", "283657", frozenset({"resident", "trial"}), frozenset())
    result = await _answer(CoUseExtensionsPlugin(), _state(trial))
    assert result["extensions"]["coUse"] == {"sandbox": True, "trials": []}


async def test_a_real_caller_gets_no_co_use_extension():
    real = Principal("r-1", "283657", frozenset({"resident"}), frozenset())
    result = await _answer(CoUseExtensionsPlugin(), _state(real), {"data": {}, "extensions": {"other": 1}})
    assert "coUse" not in result["extensions"]


def test_merge_keeps_one_trial_per_platform_and_municipality():
    assert merge_co_use([{"trials": [CHILDCARE]}, {"trials": [CHILDCARE, "junk"]}]) == \
        {"sandbox": False, "trials": [CHILDCARE]}
