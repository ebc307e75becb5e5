"""`accrual shadow report` and the shadow operations of `accrual apply` (A233): a program's shadow
ruleset applied, cleared or promoted through the same functions as `/v1/programs/{id}/shadow`
(on a server with `--server`, on the database with `--org`), and its report, live against shadow.

    accrual apply --shadow candidate.yaml --program ID --org acme
    accrual shadow report --program ID [--version N] [--json]
    accrual apply --promote-shadow --program ID --org acme
    accrual apply --shadow --clear --program ID --org acme
"""

from __future__ import annotations

from typing import Any

import click
import msgspec

from engine.cli.backtest_report import asset_rows, counts, signed, table
from engine.cli.common import database
from engine.cli.common import style as _style
from engine.model.bundle import Bundle

SHADOW_OPERATIONS = {"set": "PUT", "clear": "DELETE", "promote": "POST"}


def shadow_operation(
    operation: str, bundle: Bundle | None, program_id: str, *, http: Any = None, org_name: str | None = None
) -> dict[str, Any]:
    """Apply (`set`), clear or promote the program's shadow; the answer as the API gives it.
    `http` is an `engine.cli.apply.HttpApply` (`--server`), else `org_name`'s database target."""
    if http is not None:
        suffix = "/promote" if operation == "promote" else ""
        body = (
            None
            if bundle is None
            else msgspec.to_builtins(msgspec.structs.replace(bundle, tests=[], automation_tests=[]))
        )
        return http.call(SHADOW_OPERATIONS[operation], f"/v1/programs/{program_id}/shadow{suffix}", body)
    from api.apply_target import DatabaseTarget
    from api.queries import shadow

    target = DatabaseTarget.for_organisation(org_name or "")
    if operation == "set" and bundle is not None:
        return msgspec.to_builtins(shadow.apply_shadow(target.principal, program_id, bundle))
    if operation == "clear":
        return msgspec.to_builtins(shadow.remove_shadow(target.principal.organisation_id, program_id))
    return msgspec.to_builtins(shadow.promote_shadow(target.principal, program_id))


def shadow_lines(answer: dict[str, Any]) -> list[str]:
    """What `accrual apply --shadow` and `--clear` print."""
    state = "is the shadow" if answer["status"] == "ACTIVE" else "is " + answer["status"]
    shown = f"shadow v{answer['version']} ({answer['rule_count']} rules) {state} of program {answer['program_id']}"
    return [f"{shown}; the live rules are unchanged"]


@click.group()
def shadow() -> None:
    """A program's shadow ruleset: evaluated beside the live rules on every event, writing only
    what it would have done. Apply one with `accrual apply --shadow`."""


@shadow.command()
@click.option("--program", "program_id", required=True, help="The program whose shadow is reported.")
@click.option("--version", type=click.IntRange(min=1), default=None, help="The shadow's version (default: latest).")
@click.option("--sample", type=click.IntRange(min=0, max=200), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (as the API answers it).")
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
def report(program_id: str, version: int | None, sample: int, as_json: bool, database_url: str | None) -> None:
    """Live against shadow by rule and by asset, the events that differ, and the shadow's errors."""
    from api.queries.shadow import report as shadow_report
    from engine.store.errors import NotFound
    from engine.store.migrations import require_current
    from engine.store.models import Program

    with database(database_url) as db, db.connection_context():
        require_current(db, "a shadow report")
        program = Program.get_or_none(Program.id == program_id)
        if program is None:
            raise NotFound(f"program {program_id} not found", resource="program", id=program_id)
        found = shadow_report(program.organisation_id, program_id, version=version, sample=sample)
    if as_json:
        click.echo(msgspec.json.format(msgspec.json.encode(found), indent=2).decode())
        return
    click.echo("\n".join(report_lines(msgspec.to_builtins(found), found)))


def report_lines(plain: dict[str, Any], found: Any) -> list[str]:
    """The report as terminal tables: before is live, after the shadow."""
    meta = plain["shadow"]
    lines = [
        f"shadow v{meta['version']} of program {meta['program_id']} ({meta['status']}, since {meta['created_at']})",
        f"{found.events} of {found.events_processed} processed events evaluated; {found.differing} differ",
    ]
    if found.errors:
        codes = ", ".join(f"{code} {count}" for code, count in found.error_codes.items())
        lines.append(_style(f"{found.errors} events the shadow could not evaluate ({codes})", fg="red"))
    lines += ["", "rules (matched/skipped/erroring)"]
    lines += table(["rule", "live", "shadow"], [[c.rule, counts(c.before), counts(c.after)] for c in found.rules])
    if found.assets:
        lines += ["", "assets"]
        rows = [row for change in found.assets for row in asset_rows(change.asset, change.before, change.after)]
        rows += [[change.asset, "liability", "", "", signed(change.liability_change)] for change in found.assets]
        lines += table(["asset", "flow", "live", "shadow", "change"], rows)
    if found.samples:
        lines += ["", f"events that differ (first {len(found.samples)})"]
        lines += [
            f"  {event.event_id}: {_brief(event.baseline)} | {_brief(event.candidate)}" for event in found.samples
        ]
    return lines


def _brief(outcome: dict[str, Any]) -> str:
    """An outcome on one line: status, then each listed rule with its status and actions."""
    rules = [
        f"{rule['rule']} {rule['status']}"
        + "".join(f" {a['type']} {a['amount']} {a['asset']}" for a in rule["actions"] if a.get("asset"))
        for rule in outcome["rules"]
    ]
    head = outcome["status"] + (f" {outcome['error_code']}" if outcome.get("error_code") else "")
    return "; ".join([head, *rules])
