"""`[contracts.<name>]` in gateway.toml: which `@tag`s a contract variant keeps or drops.

```toml
[contracts.vendor]            # served at /contracts/vendor/graphql, SDL at /contracts/vendor/schema.graphql
exclude = ["personal", "internal"]
# include = ["public"]        # when given, only fields tagged (or on types tagged) with one of these
roles = ["vendor"]            # callers holding one of these roles are served only through this contract
```
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

Tags = Annotated[tuple[StrictStr, ...], Field(strict=False)]


class ContractSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    include: Tags = ()
    exclude: Tags = ()
    # A caller with one of these roles gets FORBIDDEN on every other GraphQL path (gateway/plugins/contract_roles.py).
    roles: Tags = ()

    @model_validator(mode="after")
    def _some_filter(self) -> "ContractSettings":
        if not self.include and not self.exclude:
            raise ValueError("a contract needs include or exclude tags (else it is the whole API schema)")
        overlap = set(self.include) & set(self.exclude)
        if overlap:
            raise ValueError(f"tag {sorted(overlap)[0]!r} is both included and excluded")
        return self

