"""`accrual up` (and `make run`): the whole system on one machine, in one terminal.

It prepares the database, applies every bundle in `rules_examples/` to a `demo` organisation,
creates a demo API key, then runs the API (with the playground) and a worker as child processes
until Ctrl-C, which stops both cleanly. Everything it prints is ready to paste.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import click

from engine.rules.plan import Target

DEMO_ORG = "demo"
DEMO_PROGRAM = "skymiles"  # the example the printed curl posts to
DEMO_WALLET_FUNDING = "100000"  # per empty PREFUNDED wallet of the demo programs
DEMO_EVENT = '{"type": "flight.completed", "distance": 1234, "cabin": "business"}'
STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class UpOptions:
    host: str
    port: int
    database_url: str
    examples: Path


def prepare(options: UpOptions) -> tuple[str, dict[str, str]]:
    """Upgrade the schema, create a demo key, apply the example bundles (the same plan `accrual
    apply --org` runs); returns the key and the applied programs' ids by program key."""
    from api.apply_target import DatabaseTarget
    from api.keys import create_key
    from api.queries.apply import apply_bundle
    from engine.rules.loader import load_bundle
    from engine.store.db import connect
    from engine.store.migrations import upgrade

    if options.database_url.startswith("sqlite:///"):
        Path(options.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db = connect(options.database_url)
    upgrade(db)
    key = create_key(DEMO_ORG, name="accrual up")  # creates the organisation on first run
    target = DatabaseTarget.for_organisation(DEMO_ORG)
    programs: dict[str, str] = {}
    for path in sorted(options.examples.glob("*.yaml")):
        loaded = load_bundle(path)
        if not loaded.ok or loaded.bundle is None:
            raise click.ClickException(f"{path} does not check; run `accrual check {path}`")
        answer = apply_bundle(target.principal, loaded.bundle, dry_run=False)
        programs[answer.program_key] = answer.program_id or _existing_id(target, answer.program_key)
    for program_id in programs.values():
        _fund_empty_wallets(program_id)
    db.close()
    return key, programs


def _fund_empty_wallets(program_id: str) -> None:
    """Give an empty wallet of a PREFUNDED asset (the cashback example's) demo funds, so its credits
    succeed out of the box; a wallet that already holds value is left as it is."""
    from decimal import Decimal

    from api.queries.programs import wallet_balances
    from engine.store.models import Organisation
    from engine.store.operations import fund_program

    organisation_id = Organisation.get(Organisation.name == DEMO_ORG).id
    for wallet in wallet_balances(organisation_id, program_id, None):
        if Decimal(wallet.available) == 0:
            fund_program(
                organisation_id,
                program_id,
                asset_id=wallet.asset_id,
                amount=DEMO_WALLET_FUNDING,
                description="demo funds from accrual up",
            )


def _existing_id(target: Target, program_key: str) -> str:
    for program in target.programs():
        if program.get("key") == program_key:
            return str(program["id"])
    raise click.ClickException(f"program {program_key} was not applied")


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    # Each child gets its own process group so Ctrl-C in the terminal reaches us once and we stop
    # the children in order (API first, so no new event arrives, then the worker).
    return subprocess.Popen([sys.executable, "-m", "engine", *args], env=env, start_new_session=True)


def _wait_healthy(base_url: str, children: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise click.ClickException("a process of the system exited during start-up (see above)")
        try:
            with urllib.request.urlopen(f"{base_url}/v1/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise click.ClickException(f"the API did not answer on {base_url} within {STARTUP_TIMEOUT_S:.0f} s")


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def banner(base_url: str, key: str, programs: dict[str, str]) -> str:
    event = (
        f'{{"program_id": "{programs.get(DEMO_PROGRAM, "")}", "external_id": "user-123", '
        '"idempotency_key": "demo-1", "event_timestamp": "2026-11-26T09:30:00Z", '
        f'"event_data": {DEMO_EVENT}}}'
    )
    return "\n".join(
        [
            "",
            f"Accrual is running on {base_url}",
            f"  playground   {base_url}/playground",
            f"  API docs     {base_url}/schema",
            f"  programs     {', '.join(sorted(programs))} (organisation '{DEMO_ORG}')",
            "",
            "Demo API key (shown once):",
            f"  {key}",
            "",
            "Post an event:",
            f"  curl -s -X POST {base_url}/v1/events -H 'X-API-Key: {key}' -H 'Content-Type: application/json' \\",
            f"    -d '{event}'",
            "",
            "Read the resulting balance (the participant was created by the event):",
            f"  curl -s {base_url}/v1/participants/$(curl -s '{base_url}/v1/participants?external_id=user-123' \\",
            (
                f"    -H 'X-API-Key: {key}' "
                '| python3 -c \'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])\')/balances \\'
            ),
            f"    -H 'X-API-Key: {key}'",
            "",
            "Ctrl-C stops everything.",
        ]
    )


def run_up(options: UpOptions) -> None:
    key, programs = prepare(options)
    env = {**os.environ, "DATABASE_URL": options.database_url}
    base_url = f"http://{options.host}:{options.port}"
    children = [
        _spawn(["serve", "--host", options.host, "--port", str(options.port)], env),
        _spawn(["worker", "--threads", "2"], env),
    ]
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        _wait_healthy(base_url, children)
        click.echo(banner(base_url, key, programs))
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
    finally:
        click.echo("\nstopping...", err=True)
        _stop(children)
