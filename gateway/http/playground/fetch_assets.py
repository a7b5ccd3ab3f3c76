"""Fetch the playground's GraphiQL files from the npm registry into var/playground/.

    python -m gateway.http.playground.fetch_assets [--dest DIR]

Runs `npm pack` (so the registry and proxy settings of npm apply), takes the few files the page
needs out of the tarballs, and keeps each only if its sha384 matches the pinned one.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from gateway.http.playground.assets import ASSETS, assets_dir


class FetchError(RuntimeError):
    pass


def sri_sha384(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def fetch_assets(dest: Path, npm: str = "npm") -> list[Path]:
    if shutil.which(npm) is None:
        raise FetchError(f"`{npm}` is not installed; it is needed to fetch the GraphiQL files")
    packages = sorted({asset.package for asset in ASSETS})
    with tempfile.TemporaryDirectory(prefix="kyodo-playground-") as work:
        completed = subprocess.run(
            [npm, "pack", *packages, "--pack-destination", work, "--json"],
            cwd=work, capture_output=True, text=True, timeout=600,
        )
        if completed.returncode != 0:
            raise FetchError(f"npm pack failed: {completed.stderr.strip().splitlines()[-1:]}")
        tarballs = {_spec_of(path): path for path in Path(work).glob("*.tgz")}
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for asset in ASSETS:
            tarball = tarballs.get(asset.package)
            if tarball is None:
                raise FetchError(f"npm pack gave no tarball for {asset.package}")
            with tarfile.open(tarball) as archive:
                member = archive.extractfile(asset.member)
                if member is None:
                    raise FetchError(f"{asset.package} has no {asset.member}")
                data = member.read()
            if sri_sha384(data) != asset.integrity:
                raise FetchError(f"{asset.package}/{asset.member} does not match its pinned sha384")
            target = dest / asset.name
            target.write_bytes(data)
            written.append(target)
        return written


def _spec_of(tarball: Path) -> str:
    """`graphiql-plugin-explorer-1.0.2.tgz` -> `@graphiql/plugin-explorer@1.0.2` (for our packages)."""
    stem = tarball.name.removesuffix(".tgz")
    name, _, version = stem.rpartition("-")
    for asset in ASSETS:
        package_name, _, package_version = asset.package.rpartition("@")
        if package_version == version and package_name.lstrip("@").replace("/", "-") == name:
            return asset.package
    return stem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.http.playground.fetch_assets")
    parser.add_argument("--dest", default=None, help="target directory (default: var/playground/)")
    args = parser.parse_args(argv)
    dest = assets_dir(args.dest or "")
    try:
        written = fetch_assets(dest)
    except (FetchError, OSError, subprocess.TimeoutExpired) as error:
        print(f"fetch_assets: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
