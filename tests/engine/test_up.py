"""`accrual up` (what `make run` runs), as a newcomer uses it: a real process, the printed curls."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from engine.up import DEMO_PROGRAM, banner

ROOT = Path(__file__).resolve().parents[2]


def test_banner_names_every_program_and_posts_to_the_demo_one():
    text = banner("http://127.0.0.1:9", "sk_demo", {DEMO_PROGRAM: "p-1", "other": "p-2"})
    assert '"program_id": "p-1"' in text
    assert "other, skymiles" in text
    assert text.count("X-API-Key: sk_demo") == 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(method: str, url: str, key: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"X-API-Key": key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _read_banner(process: subprocess.Popen, deadline: float) -> str:
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C stops everything" in line:
            return "".join(lines)
    raise AssertionError("accrual up printed no banner:\n" + "".join(lines))


@pytest.mark.slow
def test_up_runs_the_whole_system_and_stops_on_ctrl_c(tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/accrual.db", "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "up", "--examples", str(ROOT / "rules_examples")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        text = _read_banner(process, time.monotonic() + 90)
        key = re.search(r"sk_[A-Za-z0-9_-]+", text).group(0)  # token_urlsafe alphabet
        post = json.loads(re.search(r"-d '(\{.*\})'", text).group(1))
        base = f"http://127.0.0.1:{port}"
        accepted = _request("POST", f"{base}/v1/events", key, post)
        assert accepted["status"] == "PENDING"

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            event = _request("GET", f"{base}/v1/events/{accepted['id']}", key)
            if event["status"] in ("COMPLETED", "FAILED"):
                break
            time.sleep(0.2)
        assert event["status"] == "COMPLETED", event
        found = _request("GET", f"{base}/v1/participants?external_id=user-123", key)["data"]
        balances = _request("GET", f"{base}/v1/participants/{found[0]['id']}/balances", key)["data"]
        assert [b["available"] for b in balances] == ["2468"]  # 1234 miles, doubled in business
    finally:
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=40)
        process.stdout.close()
    assert returncode == 0
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=2)
