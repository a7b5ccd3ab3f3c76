"""Operator plugins named in gateway.toml, loaded at start-up:

```toml
[[plugins]]
module = "gateway.plugins.municipality_header"     # any importable module
settings = { subgraphs = ["safety", "childcare"] } # the plugin's own table (or [plugins.settings])
```

The module provides `create(settings) -> plugin`, and optionally `Settings`, a pydantic model that
validates the plugin's table (unknown keys and wrong types are refused, as for gateway.toml). Every
problem is a `SettingsError` of one line naming the key, e.g.
`plugins[0].settings.subgrafs: unknown key`, so `kyodo serve` exits 2 before serving.
"""

from __future__ import annotations

import importlib
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from gateway.settings import PluginSettings, SettingsError, describe_validation_error


def load_plugins(entries: Iterable[PluginSettings]) -> list[Any]:
    return [load_plugin(entry, f"plugins[{index}]") for index, entry in enumerate(entries)]


def load_plugin(entry: PluginSettings, where: str) -> Any:
    try:
        module = importlib.import_module(entry.module)
    except ImportError as error:
        raise SettingsError(f"{where}.module: cannot import {entry.module!r}: {error}") from None
    create = getattr(module, "create", None)
    if not callable(create):
        raise SettingsError(f"{where}.module: {entry.module!r} has no create(settings) function")
    model = getattr(module, "Settings", None)
    settings: Any = dict(entry.settings)
    if isinstance(model, type) and issubclass(model, BaseModel):
        try:
            settings = model.model_validate(settings)
        except ValidationError as error:
            raise SettingsError(f"{where}.settings.{describe_validation_error(error)}") from None
    try:
        plugin = create(settings)
    except (ValueError, TypeError) as error:
        raise SettingsError(f"{where}: {entry.module}: {' '.join(str(error).split())}") from None
    if not getattr(plugin, "name", None):
        raise SettingsError(f"{where}: the plugin made by {entry.module}.create has no name")
    return plugin
