"""The README followed literally: every shell line it shows names a real command with valid arguments,
every demo account and file it names exists, and the `kyodo` lines that need no running stack run."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from auth.idp.directory import ACCOUNTS
from kyodo.cli import build_parser
from deploy.free_port import free_port as _free_port

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
# Subcommands that need only local files; the rest (tokens, plans, curl) need `make dev` running.
OFFLINE = ("--help", "token --list", "import ", "usage", "audit verify", "migrate", "seed")


def shell_lines(markdown: str) -> list[str]:
    """Every command line of the ```bash blocks, continuation lines joined, comments dropped."""
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", markdown, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command = re.sub(r"(?<!\S)#.*$", "", line).strip()   # a comment starts a word (none inside quotes here)
            if command:
                lines.append(" ".join(command.split()))
    return lines


def kyodo_commands(lines: list[str]) -> list[list[str]]:
    """The argv of every `kyodo …`, whether the line starts with it or runs it as `$(kyodo …)`."""
    commands = []
    for line in lines:
        for text in re.findall(r"\$\((kyodo [^)]*)\)", line) or ([line] if line.startswith("kyodo ") else []):
            commands.append(shlex.split(text)[1:])
    return commands


LINES = shell_lines(README)
COMMANDS = kyodo_commands(LINES)


def test_the_readme_shows_the_commands_a_new_user_needs():
    assert "make dev" in LINES and ". .venv/bin/activate" in LINES
    shown = {argv[0] for argv in COMMANDS}
    assert {"token", "import", "usage", "audit", "compose", "plan"} <= shown
    assert ["token", "--vendor"] in COMMANDS and ["token", "--list"] in COMMANDS


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a)[:60] for a in COMMANDS])
def test_every_kyodo_line_parses(argv):
    parser = build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit as exit_:   # --help exits 0; an unknown command or argument exits 2
        assert exit_.code == 0, f"`kyodo {shlex.join(argv)}` is not a valid command"


def test_named_accounts_and_files_exist():
    for argv in COMMANDS:
        for flag in ("--resident", "--staff", "--card"):
            if flag in argv:
                assert argv[argv.index(flag) + 1] in ACCOUNTS, argv
    assert (REPO / "docs/examples/kakogawa-aed.csv").is_file()
    for line in LINES:
        if line.startswith("make "):
            target = line.split()[1]
            assert re.search(rf"^{re.escape(target)}:", (REPO / "Makefile").read_text(), flags=re.M), target


def test_offline_kyodo_lines_run_as_written(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("KYODO_")}, "KYODO_HOME": str(tmp_path)}
    ran = []
    for argv in COMMANDS:
        if not " ".join(argv).startswith(OFFLINE) and argv != ["--help"]:
            continue
        completed = subprocess.run([sys.executable, "-m", "kyodo", *argv], cwd=REPO, env=env, capture_output=True,
                                   text=True, timeout=120)
        assert completed.returncode == 0, f"kyodo {shlex.join(argv)}: {completed.stderr[-1500:]}"
        assert "Traceback" not in completed.stderr
        ran.append(argv[0])
    assert {"--help", "token", "import", "usage", "audit"} <= set(ran)
    # the state went to KYODO_HOME, not to the checkout it ran in
    assert (tmp_path / "var" / "safety.sqlite").is_file()


# -- the whole "Trying it" section against a running `kyodo dev` -------------------------------------------



def trying_it_script(gateway: int, idp: int) -> tuple[str, list[str]]:
    """The README's shell blocks after `make dev`, as one terminal session would run them, on this test's
    ports: the only change to the text is the port numbers (and `kyodo token` told where that IdP is)."""
    section = README[README.index("## Trying it"):README.index("## The `kyodo` command")]
    lines, commands = ["set -euo pipefail"], []
    for line in shell_lines(section):
        line = line.replace("127.0.0.1:4000", f"127.0.0.1:{gateway}").replace("127.0.0.1:4400", f"127.0.0.1:{idp}")
        line = line.replace("kyodo token ", f"kyodo token --issuer http://127.0.0.1:{idp} ")
        lines += [f"echo '>>> {len(commands)}'", line, "echo"]
        commands.append(line)
    return "\n".join(lines) + "\n", commands


@pytest.fixture
def dev_stack_home(tmp_path):
    """`kyodo dev` on free ports with KYODO_HOME in tmp_path; yields (home, gateway port, idp port)."""
    home = tmp_path / "home"
    home.mkdir()
    # The README's paths are relative to the checkout; the home stands in for it.
    for name in (".venv", "docs"):
        (home / name).symlink_to(REPO / name)
    ports = {name: _free_port() for name in ("gateway", "idp", "childcare", "safety", "currency", "identity")}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("KYODO_")}, "KYODO_HOME": str(home)}
    argv = [sys.executable, "-m", "kyodo", "dev", "--gateway-port", str(ports["gateway"]), "--idp-port",
            str(ports["idp"])] + [f"--subgraph-port={n}={ports[n]}" for n in ("childcare", "safety", "currency", "identity")]
    process = subprocess.Popen(argv, cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    lines: list[str] = []
    try:
        while line := process.stdout.readline():     # bounded: the stack stops itself after 90 s unready
            lines.append(line)
            if "kyodo dev: ready" in line:
                break
        assert any("kyodo dev: ready" in line for line in lines), "".join(lines[-30:])
        yield home, ports["gateway"], ports["idp"], env
    finally:
        import signal

        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_trying_it_runs_line_by_line_against_kyodo_dev(dev_stack_home):
    home, gateway, idp, env = dev_stack_home
    script, commands = trying_it_script(gateway, idp)
    completed = subprocess.run(["bash", "-c", script], cwd=home, env=env, capture_output=True, text=True,
                               timeout=300)
    out = completed.stdout
    assert completed.returncode == 0, f"{out[-3000:]}\n{completed.stderr[-3000:]}"
    assert "Traceback" not in completed.stderr
    outputs = {int(chunk.partition("\n")[0]): chunk.partition("\n")[2].strip() for chunk in out.split(">>> ")[1:]}
    assert sorted(outputs) == list(range(len(commands)))      # every line ran

    def answer(*words: str) -> str:
        """The output of the one README line that contains all of `words`."""
        (index,) = [i for i, command in enumerate(commands) if all(w in command for w in words)]
        return outputs[index]

    shelters = json.loads(answer("curl", "shelters(municipalityCode"))
    assert shelters["data"]["shelters"] and "errors" not in shelters, shelters
    me = json.loads(answer("curl", "authorization: Bearer $TOKEN"))
    assert me["data"]["me"]["name"] == "山田 太郎" and "errors" not in me, me
    assert me["data"]["me"]["children"] and me["data"]["me"]["pointAccount"]["balance"] >= 0
    vendor = json.loads(answer("curl", "kyodo-vendor:"))
    assert vendor["token_type"].lower() == "bearer" and vendor["access_token"].count(".") == 2
    planned = json.loads(answer("curl", "apollo-expose-query-plan: true"))
    assert "Fetch" in planned["extensions"]["apolloQueryPlan"]["text"]
    assert answer("kyodo plan").startswith("QueryPlan")
    assert "kyodo-vendor" in answer("kyodo token", "--list")
    assert "aed from docs/examples/kakogawa-aed.csv" in answer("kyodo import")
    assert "audit chain intact" in answer("kyodo audit verify")
    assert (home / "var" / "supergraph.graphql").is_file()
