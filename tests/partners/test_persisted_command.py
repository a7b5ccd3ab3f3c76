"""`kyodo persisted publish`: all or nothing, into the store the gateway's settings name."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson

from gateway.persisted import FileStore, sha256_hex
from kyodo.cli import main
from tests.partners.test_persisted_documents import HELLO, manifest


def write(tmp_path: Path, data: dict | bytes, store: Path) -> tuple[Path, Path]:
    path = tmp_path / "manifest.json"
    path.write_bytes(data if isinstance(data, bytes) else orjson.dumps(data))
    config = tmp_path / "gateway.toml"
    config.write_text(f'[persisted_documents]\nmode = "safelist"\ndirectory = "{store}"\n')
    return path, config


def stored(store: Path, body: str) -> bool:
    return asyncio.run(FileStore(store).listed_body(body)) is not None


def test_publish_writes_every_operation_where_the_gateway_reads(tmp_path, capsys):
    store = tmp_path / "store"
    path, config = write(tmp_path, manifest(("Hello", "query", HELLO), ("Other", "query", "{ hello }")), store)
    assert main(["persisted", "publish", str(path), "--config", str(config)]) == 0
    assert "published 2 trusted documents" in capsys.readouterr().out
    assert stored(store, HELLO) and stored(store, "{ hello }")
    assert asyncio.run(FileStore(store).operation(sha256_hex(HELLO))).name == "Hello"


def test_an_invalid_manifest_publishes_nothing(tmp_path, capsys):
    store = tmp_path / "store"
    data = manifest(("Hello", "query", HELLO))
    data["operations"].append({"id": "x", "type": "query"})
    path, config = write(tmp_path, data, store)
    assert main(["persisted", "publish", str(path), "--config", str(config)]) == 1
    assert "operations[1].body" in capsys.readouterr().err
    assert not stored(store, HELLO)


def test_operations_invalid_against_the_supergraph_publish_nothing(tmp_path, capsys, supergraph):
    store = tmp_path / "store"
    path, config = write(tmp_path, manifest(("Hello", "query", HELLO), ("Bad", "query", "query Bad { nope }")), store)
    sdl = tmp_path / "supergraph.graphql"
    sdl.write_text(supergraph.sdl)
    assert main(["persisted", "publish", str(path), "--config", str(config), "--supergraph", str(sdl)]) == 1
    err = capsys.readouterr().err
    assert "Bad: Cannot query field 'nope'" in err and "nothing was published" in err
    assert not stored(store, HELLO)


def test_a_missing_manifest_is_a_usage_error(tmp_path, capsys):
    assert main(["persisted", "publish", str(tmp_path / "absent.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_publish_to_redis_when_the_settings_name_it(tmp_path, capsys):
    import uuid

    import redis

    prefix = f"kyodo:test:{uuid.uuid4().hex}:"
    path = tmp_path / "manifest.json"
    path.write_bytes(orjson.dumps(manifest(("Hello", "query", HELLO))))
    config = tmp_path / "gateway.toml"
    config.write_text(f'[persisted_documents]\nmode = "safelist"\nredis_url = "redis://127.0.0.1:6379/0"\n'
                      f'key_prefix = "{prefix}"\n')
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        assert main(["persisted", "publish", str(path), "--config", str(config)]) == 0
        assert "to redis://127.0.0.1:6379/0" in capsys.readouterr().out
        stored_entry = client.get(f"{prefix}id:{sha256_hex(HELLO)}")
        assert stored_entry is not None and orjson.loads(stored_entry)["body"] == HELLO
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()
