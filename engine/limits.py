"""Every bound of the engine, in one place (the rule language's own bounds are in `dsl/limits.py`).

Exceeding one raises `LimitExceeded` with code `limit_<name>`, for example

    >>> check_rule_count(20_000)
    Traceback (most recent call last):
    ...
    engine.errors.LimitExceeded: a program has 20000 rules; the limit is 10000
"""

from __future__ import annotations

from typing import Any

import msgspec

from engine.errors import LimitExceeded

RULES_PER_PROGRAM_MAX = 10_000  # active or not; one evaluation walks all of them
ACTIONS_PER_RULE_MAX = 50  # the bundle schema enforces the same number for files and the API
BUDGETS_PER_RULE_MAX = 20
EVENT_DATA_BYTES_MAX = 256 * 1024  # event_data encoded as JSON
EVENT_DATA_DEPTH_MAX = 32  # nesting of objects and arrays in event_data
TAGS_PER_ENTITY_MAX = 1_000  # a TAG that would go beyond this fails the event
BROADCAST_RECIPIENTS_MAX = 10_000  # follow-up events one BROADCAST action may create
AMOUNT_INTEGER_DIGITS_MAX = 24  # digits before an amount's decimal point (fits NUMERIC(42,18))
INTEGER_COLUMN_MAX = 2**31 - 1  # a rule's order, a tier level's rank: PostgreSQL's INTEGER
# Wall-clock seconds for all the expressions of one event (A75); each one has dsl.limits.TIME_MAX_S.
EVALUATION_TIME_MAX_S = 0.1

_encoder = msgspec.json.Encoder()


def check_rule_count(count: int) -> None:
    if count > RULES_PER_PROGRAM_MAX:
        raise LimitExceeded(
            f"a program has {count} rules; the limit is {RULES_PER_PROGRAM_MAX}",
            code="limit_rules_per_program",
        )


def check_action_count(count: int) -> None:
    if count > ACTIONS_PER_RULE_MAX:
        raise LimitExceeded(
            f"a rule has {count} actions; the limit is {ACTIONS_PER_RULE_MAX}",
            code="limit_actions_per_rule",
        )


def check_budget_count(count: int) -> None:
    if count > BUDGETS_PER_RULE_MAX:
        raise LimitExceeded(
            f"a rule has {count} budgets; the limit is {BUDGETS_PER_RULE_MAX}",
            code="limit_budgets_per_rule",
        )


def check_event_data(event_data: Any) -> None:
    """Reject an event_data that is too large or too deeply nested to evaluate safely."""
    _check_depth(event_data, 0)
    try:
        size = len(_encoder.encode(event_data))
    except (TypeError, ValueError, OverflowError) as exc:
        raise LimitExceeded(f"event_data cannot be encoded as JSON: {exc}", code="limit_event_data_type") from exc
    if size > EVENT_DATA_BYTES_MAX:
        raise LimitExceeded(
            f"event_data is {size} bytes as JSON; the limit is {EVENT_DATA_BYTES_MAX}",
            code="limit_event_data_bytes",
        )


def _check_depth(value: Any, depth: int) -> None:
    """Every value at most EVENT_DATA_DEPTH_MAX deep (the outermost object's are at depth 1).
    Only containers are visited: no call for each number or text of a long list."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    if depth > EVENT_DATA_DEPTH_MAX or (depth == EVENT_DATA_DEPTH_MAX and len(items) > 0):
        raise LimitExceeded(
            f"event_data nests deeper than {EVENT_DATA_DEPTH_MAX} levels",
            code="limit_event_data_depth",
        )
    for item in items:
        if isinstance(item, (dict, list)):
            _check_depth(item, depth + 1)


def check_tag_count(count: int) -> None:
    if count > TAGS_PER_ENTITY_MAX:
        raise LimitExceeded(
            f"an entity would have {count} tags; the limit is {TAGS_PER_ENTITY_MAX}",
            code="limit_tags_per_entity",
        )
