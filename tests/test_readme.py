"""The README followed literally: every shell line it shows names a real command with valid arguments,
every demo account and file it names exists, and the `kyodo` lines that need no running stack run."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from auth.idp.directory import ACCOUNTS
from kyodo.cli import build_parser

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
