"""Callers bound to a contract (`[contracts.<name>] roles`, e.g. vendors) are served only at
/contracts/<name>/graphql: on /graphql, or another contract's path, their operations (introspection
included) are refused with FORBIDDEN naming their path. So a vendor never reads the full API schema,
and cannot reach what its contract leaves out (personal data, the grant relay's operations)."""

from __future__ import annotations

from typing import Mapping

from gateway.document import GraphQLRequestError
from gateway.plugins.protocol import OperationEvent
from gateway.settings import SettingsError


class ContractRolesPlugin:
    name = "contract_roles"

    def __init__(self, roles: Mapping[str, tuple[str, ...]]) -> None:
        # role -> the contract path its holders must use
        self.paths: dict[str, str] = {}
        for contract, contract_roles in roles.items():
            for role in contract_roles:
                if role in self.paths:
                    raise SettingsError(f"contracts.{contract}.roles: role {role!r} is bound to two contracts")
                self.paths[role] = f"/contracts/{contract}/graphql"

    async def operation(self, event: OperationEvent) -> None:
        principal = event.state.principal
        if principal is None:
            return
        required = {self.paths[role] for role in principal.roles if role in self.paths}
        if required and event.state.path not in required:
            path = sorted(required)[0]
            raise GraphQLRequestError.single(
                f"Callers with your role are served through their contract: use {path}.", "FORBIDDEN", status=403)
