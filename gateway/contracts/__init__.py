"""Contracts: `@tag`-filtered variants of the API schema (a `vendor` schema without personal data), each
served at /contracts/<name>/graphql with its own introspection and validation (filter.py, settings.py,
routes.py)."""

from gateway.contracts.filter import ContractError, contract_schema, contract_supergraph
from gateway.contracts.settings import ContractSettings

__all__ = ["ContractError", "ContractSettings", "contract_schema", "contract_supergraph"]
