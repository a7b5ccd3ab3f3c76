"""The gateway's public context JWKS is written atomically even when several processes write it at once
(`kyodo serve --workers N`, or two gateways sharing a state directory): each writer has its own temporary file,
so none renames away another's, and a reader only ever sees a whole key set."""

from __future__ import annotations

import json
import threading

from joserfc.jwk import ECKey

from auth.gateway_keys import write_public_jwks


def test_concurrent_writers_never_lose_their_temporary_file(tmp_path):
    path = tmp_path / "context-jwks.json"
    keys = [ECKey.generate_key("P-256") for _ in range(4)]
    failures: list[BaseException] = []
    start = threading.Barrier(len(keys))

    def writer(key: ECKey) -> None:
        start.wait()
        try:
            for _ in range(100):
                write_public_jwks(path, key)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(json.loads(path.read_text())["keys"]) == 1   # one writer's whole set, not a mixture
    assert [p.name for p in tmp_path.iterdir()] == ["context-jwks.json"]   # no temporary file left behind
