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

import pytest

from engine.cli.up import DEMO_PROGRAM, banner
from tests.conftest import ROOT


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
    request = urllib.request.Request(
        url, data=data, method=method, headers={"X-API-Key": key, "Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _finished(base: str, key: str, event_id: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        event = _request("GET", f"{base}/v1/events/{event_id}", key)
        if event["status"] in ("COMPLETED", "FAILED"):
            return event
        time.sleep(0.2)
    raise AssertionError(f"event {event_id} still {event['status']} after 30 s")


def _available(base: str, key: str, external_id: str) -> list[str]:
    found = _request("GET", f"{base}/v1/participants?external_id={external_id}", key)["data"]
    balances = _request("GET", f"{base}/v1/participants/{found[0]['id']}/balances", key)["data"]
    return [balance["available"] for balance in balances]


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
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        text = _read_banner(process, time.monotonic() + 90)
        key = re.search(r"sk_[A-Za-z0-9_-]+", text).group(0)  # token_urlsafe alphabet
        post = json.loads(re.search(r"-d '(\{.*\})'", text).group(1))
        base = f"http://127.0.0.1:{port}"
        accepted = _request("POST", f"{base}/v1/events", key, post)
        assert accepted["status"] == "PENDING"
        assert _finished(base, key, accepted["id"])["status"] == "COMPLETED"
        assert _available(base, key, "user-123") == ["2468"]  # 1234 miles, doubled in business

        # The cashback example draws from a PREFUNDED wallet, which `up` funds for the demo.
        programs = _request("GET", f"{base}/v1/programs", key)["data"]
        cashback = next(p["id"] for p in programs if p["key"] == "cashback")
        purchase = {
            "program_id": cashback,
            "external_id": "user-7",
            "idempotency_key": "cb-1",
            "event_timestamp": "2026-11-26T10:00:00Z",
            "event_data": {"type": "purchase", "category": "grocery", "amount": 84.30},
        }
        accepted = _request("POST", f"{base}/v1/events", key, purchase)
        assert _finished(base, key, accepted["id"])["status"] == "COMPLETED"
        assert _available(base, key, "user-7") == ["4.22"]  # 5 % on groceries
    finally:
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=40)
        process.stdout.close()
    assert returncode == 0
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=2)
