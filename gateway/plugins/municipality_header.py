"""Example operator plugin: pass the client's municipality code header on to chosen subgraphs only.

A city's front end (a ward office terminal, a kiosk) says which municipality it acts for with
`X-Municipality-Code: 282014`. Subgraphs receive no client header by default; this plugin forwards
that one header, and only to the subgraphs listed, after checking it is a real 6-digit local
government code (JIS X 0402, check digit included). A malformed code is refused with 400 rather
than forwarded: a header that reaches a subgraph must be one the gateway has checked.

```toml
[[plugins]]
module = "gateway.plugins.municipality_header"
[plugins.settings]
subgraphs = ["safety", "childcare"]   # declared subgraph names; required
header = "X-Municipality-Code"        # the default
```
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from gateway.document import GraphQLRequestError
from gateway.plugins.protocol import RequestState, SubgraphRequest

_WEIGHTS = (6, 5, 4, 3, 2)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    subgraphs: Annotated[tuple[StrictStr, ...], Field(strict=False, min_length=1)]
    header: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]+$")] = "X-Municipality-Code"


def is_municipality_code(value: str) -> bool:
    """Six ASCII digits whose last is the JIS X 0402 check digit of the first five."""
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:5], _WEIGHTS))
    return (11 - total % 11) % 10 == int(value[5])


class MunicipalityHeaderPlugin:
    name = "municipality_header"

    def __init__(self, settings: Settings) -> None:
        self.header = settings.header
        self.subgraphs = frozenset(settings.subgraphs)

    async def http_request(self, state: RequestState) -> None:
        code = state.headers.get(self.header)
        if code is None:
            return
        code = code.strip()
        if not is_municipality_code(code):
            raise GraphQLRequestError.single(
                f"{self.header} must be a 6-digit local government code (JIS X 0402).", "BAD_MUNICIPALITY_CODE"
            )
        state.notes[self.name] = code

    async def subgraph_request(self, event: SubgraphRequest) -> None:
        code = event.state.notes.get(self.name)
        if code is not None and event.subgraph in self.subgraphs:
            event.headers[self.header] = code


def create(settings: Settings) -> MunicipalityHeaderPlugin:
    return MunicipalityHeaderPlugin(settings)
