"""CI step: audit the locked dependencies for known vulnerabilities with pip-audit.

pip-audit reports "No known vulnerabilities found" even when it could not look a single package up
(this machine's registry answers 404 on the per-version vulnerability endpoint, and pip-audit then
skips every package). So this step reads pip-audit's JSON and says how many packages were really
checked: vulnerabilities found fail the step; packages left unchecked are reported loudly, and fail
it too when KYODO_DEPENDENCY_AUDIT=strict (for a CI that can reach a vulnerability database).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    lock = Path(sys.argv[1] if len(sys.argv) > 1 else "requirements/lock.txt")
    strict = os.environ.get("KYODO_DEPENDENCY_AUDIT", "").lower() == "strict"
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "audit.json"
        command = [sys.executable, "-m", "pip_audit", "-r", str(lock), "--require-hashes",
                   "--disable-pip", "--format", "json", "-o", str(report), "--progress-spinner", "off"]
        run = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if not report.exists():
            print(f"dependency audit: FAILED to run pip-audit (exit {run.returncode}): "
                  f"{(run.stderr.strip().splitlines() or ['no output'])[-1]}")
            return 1 if strict else 0
        dependencies = json.loads(report.read_text())["dependencies"]
    skipped = [d for d in dependencies if "skip_reason" in d]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    checked = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        ids = ", ".join(v["id"] for v in dependency["vulns"])
        print(f"dependency audit: VULNERABLE {dependency['name']} {dependency.get('version')}: {ids}")
    if skipped:
        print(f"dependency audit: NOT CHECKED — {len(skipped)} of {len(dependencies)} locked packages could not be "
              f"looked up (vulnerability data source unreachable: {skipped[0]['skip_reason']}). "
              "This is not a pass; run it where the data source answers.")
    print(f"dependency audit: {checked} of {len(dependencies)} packages checked, {len(vulnerable)} vulnerable")
    if vulnerable:
        return 1
    return 1 if (skipped and strict) else 0


if __name__ == "__main__":
    sys.exit(main())
