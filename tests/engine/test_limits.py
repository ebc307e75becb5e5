import msgspec
import pytest

from engine import limits
from engine.errors import LimitExceeded


def nested(levels: int) -> dict:
    """`{"x": {"x": ...}}`: an empty object `levels` objects deep inside the outermost."""
    data: dict = {}
    node = data
    for _ in range(levels):
        node["x"] = {}
        node = node["x"]
    return data


def test_event_data_within_bounds_passes():
    """Ordinary data passes, and so does data exactly at the size and depth limits; one byte or
    one level more does not."""
    limits.check_event_data({"type": "purchase", "items": [{"sku": "a", "qty": 1}]})
    largest = {"blob": "x" * (limits.EVENT_DATA_BYTES_MAX - len('{"blob":""}'))}
    assert len(msgspec.json.encode(largest)) == limits.EVENT_DATA_BYTES_MAX
    limits.check_event_data(largest)
    limits.check_event_data(nested(limits.EVENT_DATA_DEPTH_MAX))
    with pytest.raises(LimitExceeded) as caught:
        limits.check_event_data({"blob": largest["blob"] + "x"})
    assert caught.value.code == "limit_event_data_bytes"
    with pytest.raises(LimitExceeded) as caught:
        limits.check_event_data(nested(limits.EVENT_DATA_DEPTH_MAX + 1))
    assert caught.value.code == "limit_event_data_depth"


def test_event_data_too_large():
    with pytest.raises(LimitExceeded) as caught:
        limits.check_event_data({"blob": "x" * (limits.EVENT_DATA_BYTES_MAX + 1)})
    assert caught.value.code == "limit_event_data_bytes"


def test_event_data_too_deep():
    with pytest.raises(LimitExceeded) as caught:
        limits.check_event_data(nested(limits.EVENT_DATA_DEPTH_MAX + 2))
    assert caught.value.code == "limit_event_data_depth"


def test_event_data_that_is_not_json():
    with pytest.raises(LimitExceeded) as caught:
        limits.check_event_data({"when": object()})
    assert caught.value.code == "limit_event_data_type"


@pytest.mark.parametrize(
    ("check", "bound", "code"),
    [
        (limits.check_rule_count, limits.RULES_PER_PROGRAM_MAX, "limit_rules_per_program"),
        (limits.check_action_count, limits.ACTIONS_PER_RULE_MAX, "limit_actions_per_rule"),
        (limits.check_budget_count, limits.BUDGETS_PER_RULE_MAX, "limit_budgets_per_rule"),
        (limits.check_tag_count, limits.TAGS_PER_ENTITY_MAX, "limit_tags_per_entity"),
    ],
)
def test_counts_at_the_bound_pass_and_beyond_fail(check, bound, code):
    check(bound)
    with pytest.raises(LimitExceeded) as caught:
        check(bound + 1)
    assert caught.value.code == code
