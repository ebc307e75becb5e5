""" "Save as test case": the playground's run becomes a test case of the bundle file.

The event and participant are kept as the author typed them; the expectation is read off the
evaluation result (statuses, credits and debits, the participant's state after), so the case pins
what the rules do with this input and `accrual test` fails when a rule change alters it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

import msgspec
import yaml

from engine.model.bundle import Expectation, GroupExpectation, Quantity, TestCase
from engine.model.result import EvaluationResult, RuleStatus
from engine.model.state import Balance, EntityState, GroupState
from engine.model.vocabulary import EventStatus
from playground.inputs import PlaygroundEvent, StatePane

_NAME_MAX = 255
_PLAIN_STATUSES = {RuleStatus.MATCHED, RuleStatus.NOT_MATCHED}


class AppendError(Exception):
    """The bundle text has a `tests` key this module cannot append to safely."""

    code = "playground_append"


def build_test_case(name: str, event: PlaygroundEvent, states: StatePane, result: EvaluationResult) -> TestCase:
    """The test case that expects exactly `result` for this event and these states.

    >>> build_test_case("big order", event, StatePane(participant=StateInput(tags=["vip"])), result).expect.matched
    ['vip bonus']
    """
    return TestCase(
        name=(name.strip() or "playground case")[:_NAME_MAX],
        event=event.event_data,
        event_timestamp=event.event_timestamp,
        received_at=event.received_at,
        participant=states.participant,
        recipient=states.recipient,
        program=states.program,
        group=states.group,
        expect=expectation_of(result),
    )


def expectation_of(result: EvaluationResult) -> Expectation:
    """Everything a test case can pin about one evaluation."""
    if result.status != EventStatus.COMPLETED:  # an evaluation ends COMPLETED or FAILED
        return Expectation(status="FAILED", error_code=result.error_code)
    unusual = {o.rule: str(o.status) for o in result.rules if o.status not in _PLAIN_STATUSES}
    after = result.participant_after()
    recipient = _entity_expectation(result.recipient) if result.recipient is not None else None
    return Expectation(
        status="COMPLETED",
        matched=[o.rule for o in result.rules if o.status == RuleStatus.MATCHED],
        statuses=unusual or None,
        credits=_sums(result, "CREDIT") or None,
        debits=_sums(result, "DEBIT") or None,
        tags=list(after.tags),
        counters={key: _number(c.value) for key, c in after.counters.items()} or None,
        attributes=dict(after.attributes) or None,
        tiers={key: tier.level for key, tier in after.tiers.items()} or None,
        balances=_balances(after) or None,
        recipient=recipient,
        group=_group_expectation(result.group) if result.group is not None else None,
    )


def _group_expectation(group: GroupState) -> GroupExpectation:
    """The group after the event (its credits are pinned with the event's)."""
    return GroupExpectation(
        tags=list(group.tags),
        counters={key: _number(c.value) for key, c in group.counters.items()} or None,
        attributes=dict(group.attributes) or None,
        tiers={key: tier.level for key, tier in group.tiers.items()} or None,
        balances=_balances(group) or None,
    )


def _entity_expectation(entity: EntityState) -> Expectation:
    """The state after, for the recipient (credits are pinned once, on the whole event)."""
    return Expectation(
        tags=list(entity.tags),
        counters={key: _number(c.value) for key, c in entity.counters.items()} or None,
        attributes=dict(entity.attributes) or None,
        tiers={key: tier.level for key, tier in entity.tiers.items()} or None,
        balances=_balances(entity) or None,
    )


def render_test_case(case: TestCase) -> str:
    """The case as a YAML block (a one-item sequence) to put under the bundle's `tests:`.

    >>> print(render_test_case(TestCase(name="n", event={"a": 1.0})))
    - name: n
      event:
        a: 1.0
      participant: {}
      expect: {}
    <BLANKLINE>
    """
    data = msgspec.to_builtins(case)
    if not data.get("program"):
        data.pop("program", None)  # an empty program state is the default; keep the block short
    return yaml.safe_dump([data], sort_keys=False, default_flow_style=False, allow_unicode=True)


def append_test_case(bundle_text: str, block: str) -> str:
    """`bundle_text` with `block` added as the last item of its top-level `tests:` (which is
    created when missing). Raises `AppendError` when `tests` is not a block sequence.

    >>> append_test_case("program: {key: p, name: P}\\n", "- name: n\\n  event: {}\\n")
    'program: {key: p, name: P}\\ntests:\\n- name: n\\n  event: {}\\n'
    """
    try:
        root = yaml.compose(bundle_text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise AppendError("the bundle is not valid YAML yet; fix it (see its problems) and append again") from exc
    tests = _top_level_value(root, "tests")
    text = bundle_text if bundle_text.endswith("\n") or not bundle_text else bundle_text + "\n"
    if tests is None:
        return text + "tests:\n" + block
    if not isinstance(tests, yaml.SequenceNode) or tests.flow_style or not tests.value:
        raise AppendError("the bundle's `tests` is not a block list; paste the case by hand")
    # Items' content starts two columns after their dash; shift the block's dashes to match.
    shift = " " * max(tests.value[0].start_mark.column - 2, 0)
    lines = text.splitlines(keepends=True)
    insert_at = _end_line(lines, tests.end_mark.line)
    indented = "".join(shift + line if line.strip() else line for line in block.splitlines(keepends=True))
    return "".join(lines[:insert_at]) + indented + "".join(lines[insert_at:])


def _end_line(lines: list[str], end_line: int) -> int:
    """PyYAML's end mark of a block sequence sits on the line after its last item, past any
    blank or comment lines; insert right after the last line that belongs to the item."""
    insert_at = min(end_line, len(lines))
    while insert_at > 0 and re.fullmatch(r"\s*(#.*)?\n?", lines[insert_at - 1]):
        insert_at -= 1
    return insert_at


def _top_level_value(root: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(root, yaml.MappingNode):
        raise AppendError("the bundle is not a YAML mapping")
    for key_node, value_node in root.value:
        if key_node.value == key:
            return value_node
    return None


def _sums(result: EvaluationResult, action_type: str) -> dict[str, Quantity]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for action in result.actions:
        if action.type == action_type and action.status == "APPLIED" and action.asset is not None:
            totals[action.asset] += action.amount or Decimal(0)
    return {asset: str(total) for asset, total in totals.items()}


def _balances(entity: EntityState | GroupState) -> dict[str, Quantity | dict[str, Quantity]]:
    return {asset: _balance(balance) for asset, balance in (entity.balances or {}).items()}


def _balance(balance: Balance) -> Quantity | dict[str, Quantity]:
    if not balance.held and not balance.deferred:
        return str(balance.available)
    return {"available": str(balance.available), "held": str(balance.held), "deferred": str(balance.deferred)}


def _number(value: Decimal) -> Any:
    """Counters are doubles in CEL; a whole value is written as an int, others as a string so
    no binary rounding sneaks into the file."""
    return int(value) if value == value.to_integral_value() else str(value)
