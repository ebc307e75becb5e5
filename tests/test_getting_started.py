"""docs/getting-started.md is a test: every `console` block's commands run in order in a new
directory of the checkout (with the guide's bundle, `rules_examples/coffee_chain.yaml`), and each
command's output must be the lines the guide shows under it. And every YAML snippet the guide
shows is in that bundle, so the guide and the bundle cannot drift apart."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

GUIDE = ROOT / "docs" / "getting-started.md"
BUNDLE = ROOT / "rules_examples" / "coffee_chain.yaml"
BLOCK = re.compile(r"^```(console|yaml)\n(.*?)^```$", re.M | re.S)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def blocks(kind: str) -> list[str]:
    return [body for found, body in BLOCK.findall(GUIDE.read_text(encoding="utf-8")) if found == kind]


def sessions() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every `$ ` line of the console blocks, in order."""
    steps: list[tuple[str, list[str]]] = []
    for body in blocks("console"):
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
    return steps


def matches(expected: list[str], actual: list[str]) -> bool:
    if len(expected) != len(actual):
        return False
    for want, got in zip(expected, actual, strict=True):
        got = UUID.sub("<id>", got)
        if want.endswith("...") and got.startswith(want[:-3]):
            continue
        if want != got:
            return False
    return True


@pytest.mark.slow
def test_every_command_of_the_guide_prints_what_the_guide_shows(tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "try").mkdir(parents=True)
    (checkout / "rules_examples").symlink_to(BUNDLE.parent)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.update(PYTHONUNBUFFERED="1", COLUMNS="200", NO_COLOR="1")
    env.pop("DATABASE_URL", None)
    steps = sessions()
    assert len(steps) >= 10
    for command, expected in steps:
        if command.startswith("export "):
            name, _, value = command.removeprefix("export ").partition("=")
            env[name] = value
            continue
        done = subprocess.run(
            command, shell=True, cwd=checkout / "try", env=env, capture_output=True, text=True, timeout=120
        )
        output = (done.stdout + done.stderr).splitlines()
        assert matches(expected, output), (
            f"$ {command}\nexpected:\n" + "\n".join(expected) + "\ngot:\n" + "\n".join(output)
        )


def test_every_yaml_snippet_of_the_guide_is_in_its_bundle():
    bundle = BUNDLE.read_text(encoding="utf-8")
    for snippet in blocks("yaml"):
        for line in snippet.splitlines():
            if line.strip() and not line.startswith("# yaml-language-server"):
                assert line.strip() in bundle, line
