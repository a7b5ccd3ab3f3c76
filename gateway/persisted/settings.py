"""`[persisted_documents]` in gateway.toml: trusted documents and automatic persisted queries.

```toml
[persisted_documents]
mode = "safelist"        # off | log_unlisted | safelist
apq = false              # automatic persisted queries (always refused in safelist mode)
directory = ""           # the manifest store; empty: var/persisted under the project
redis_url = ""           # when set, the store is Redis (every replica sees one list)
key_prefix = "kyodo:persisted:"
require_id = false       # safelist: refuse even a listed document sent as full text
apq_ttl_seconds = 86400  # how long an APQ registration is kept (Redis); in memory: apq_cache_size entries
apq_cache_size = 4096
```
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class PersistedDocumentsSettings(BaseModel):
    # Same rules as every gateway.toml table (gateway/settings.py): frozen, strict, unknown keys refused.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    mode: Literal["off", "log_unlisted", "safelist"] = "off"
    apq: bool = False
    directory: str = ""
    redis_url: str = ""
    key_prefix: str = "kyodo:persisted:"
    require_id: bool = False
    apq_ttl_seconds: Annotated[int, Field(gt=0)] = 86400
    apq_cache_size: Annotated[int, Field(ge=0)] = 4096

    @property
    def enabled(self) -> bool:
        return self.mode != "off" or self.apq
