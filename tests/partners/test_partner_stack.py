"""Vendors and citizen apps against the real kyodo stack (four seeded subgraphs, the dev IdP, the gateway as
`kyodo serve` builds it), with a vendor contract bound to role `vendor` and a safelist of trusted documents."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.contracts import ContractSettings
from gateway.persisted import FileStore, PersistedDocumentsSettings, PersistedOperation, sha256_hex
from subgraphs.common.roster import by_label
import tests.integration.stack as stack_module
from tests.integration.identity_provider import sign_in_with_pkce, vendor_token

MERCHANTS = "query Merchants { merchants { id name } }"
ME = "query Me { me { id } }"


async def post(url: str, body: dict, token: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url, json=body, headers={"authorization": f"Bearer {token}",
                                                          "content-type": "application/json"})


async def test_a_vendor_uses_its_contract_and_a_citizen_app_its_trusted_documents(tmp_path, monkeypatch):
    store = tmp_path / "persisted"
    await FileStore(store).publish([PersistedOperation(sha256_hex(body), name, "query", body)
                                    for name, body in (("Merchants", MERCHANTS), ("Me", ME))])
    original = stack_module.gateway_settings

    def partner_settings(state_dir: Any, idp_url: str) -> Any:
        return original(state_dir, idp_url).model_copy(update={
            "contracts": {"vendor": ContractSettings(exclude=("personal", "internal"), roles=("vendor",))},
            "persisted_documents": PersistedDocumentsSettings(mode="safelist", directory=str(store)),
        })

    monkeypatch.setattr(stack_module, "gateway_settings", partner_settings)
    async with stack_module.running_stack(tmp_path / "stack") as stack:
        contract_url = stack.gateway_url + "/contracts/vendor/graphql"
        vendor = await vendor_token(stack.idp_url)

        async with httpx.AsyncClient(timeout=30) as client:
            sdl = (await client.get(stack.gateway_url + "/contracts/vendor/schema.graphql")).text
        assert "merchants" in sdl
        for hidden in ("pendingCurrencyGrants", "recordCurrencyGrantOutcome", "type Resident", "\n  me: "):
            assert hidden not in sdl

        listed = await post(contract_url, {"documentId": sha256_hex(MERCHANTS)}, vendor)
        assert listed.status_code == 200 and listed.json()["data"]["merchants"], listed.text
        unlisted = await post(contract_url, {"query": "{ merchants { id } }"}, vendor)
        assert unlisted.json()["errors"][0]["extensions"]["code"] == "QUERY_NOT_IN_SAFELIST"
        elsewhere = await post(stack.gateway_url + "/graphql", {"documentId": sha256_hex(MERCHANTS)}, vendor)
        assert elsewhere.status_code == 403
        outside = await post(contract_url, {"documentId": sha256_hex(ME)}, vendor)
        assert outside.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

        resident = await sign_in_with_pkce(stack.idp_url, by_label("himeji-1/taro").id)
        me = await post(stack.gateway_url + "/graphql",
                        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(ME)}}}, resident)
        assert me.json()["data"]["me"]["id"] == by_label("himeji-1/taro").id, me.text
