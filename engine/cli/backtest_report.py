"""What `accrual backtest` prints: the difference as terminal tables, or as JSON."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from engine.cli.common import style
from engine.model.history import Window
from engine.replay.difference import Difference, difference_document
from engine.replay.outcomes import AssetFlows, RuleCounts

PARTICIPANTS_SHOWN = 20


def threshold_values(difference: Difference) -> dict[str, Decimal]:
    """The values `--fail-on` compares: liability is the largest change of any asset, either way."""
    return {
        "changed_events": Decimal(difference.changed_events),
        "participants": Decimal(len(difference.participant_changes)),
        "mismatches": Decimal(difference.mismatches),
        "liability": max((abs(change.liability_change) for change in difference.assets), default=Decimal(0)),
    }


def difference_json(window: Window, difference: Difference) -> str:
    return msgspec.json.format(msgspec.json.encode(difference_document(window, difference)), indent=2).decode()


def counts(rule: RuleCounts) -> str:
    return f"{rule.matched}/{rule.skipped}/{rule.erroring}"


def signed(value: Decimal) -> str:
    return f"+{value}" if value > 0 else str(value)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()

    return [style(line(header), bold=True), *(line(row) for row in rows)]


def difference_lines(difference: Difference) -> list[str]:
    lines = [f"{difference.events} events, {difference.participants} participants replayed"]
    if difference.reproduced:
        lines.append(style("baseline reproduces every recorded outcome", fg="green"))
    else:
        lines.append(
            style(f"baseline does not reproduce {difference.mismatches} recorded outcomes (edited rules?)", fg="yellow")
        )
        lines.extend(f"  {mismatch.event_id} ({mismatch.participant_id})" for mismatch in difference.mismatch_samples)
    if difference.empty:
        lines.append(style("no difference", fg="green"))
        return lines
    lines.append(f"{difference.changed_events} events end differently")
    changed_rules = [change for change in difference.rules if change.before != change.after]
    if changed_rules:
        lines += ["", "rules (matched/skipped/erroring)"]
        lines += table(
            ["rule", "before", "after"],
            [[change.rule, counts(change.before), counts(change.after)] for change in changed_rules],
        )
    lines += ["", "assets"]
    lines += table(
        ["asset", "flow", "before", "after", "change"],
        [row for change in difference.assets for row in asset_rows(change.asset, change.before, change.after)]
        + [[change.asset, "liability", "", "", signed(change.liability_change)] for change in difference.assets],
    )
    if difference.budgets:
        lines += ["", "budgets first exhausted (within the window, from nothing consumed)"]
        lines += table(
            ["rule", "before", "after"],
            [[change.rule, _moment(change.before), _moment(change.after)] for change in difference.budgets],
        )
    if difference.participant_changes:
        lines += ["", f"participants ({len(difference.participant_changes)} end differently, largest first)"]
        for change in difference.participant_changes[:PARTICIPANTS_SHOWN]:
            lines.append(f"  {change.external_id or change.participant_id}: {_what_changed(change)}")
    return lines


def _moment(at: datetime | None) -> str:
    return "never" if at is None else at.isoformat().replace("+00:00", "Z")


def asset_rows(asset: str, before: AssetFlows, after: AssetFlows) -> list[list[str]]:
    rows = []
    for flow in ("credited", "debited", "held", "forfeited"):
        old, new = getattr(before, flow), getattr(after, flow)
        if old != new:
            rows.append([asset, flow, str(old), str(new), signed(new - old)])
    return rows


def _what_changed(change) -> str:
    parts = [
        f"{asset}.{bucket} {old} -> {new}"
        for asset, buckets in change.balances.items()
        for bucket, (old, new) in buckets.items()
    ]
    parts += [f"tag {tag} {'removed' if had else 'added'}" for tag, (had, _) in change.tags.items()]
    parts += [f"counter {key} {old} -> {new}" for key, (old, new) in change.counters.items()]
    parts += [f"attribute {key} {old} -> {new}" for key, (old, new) in change.attributes.items()]
    parts += [f"tier {key} {old} -> {new}" for key, (old, new) in change.tiers.items()]
    return ", ".join(parts)
