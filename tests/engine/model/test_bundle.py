import json

import msgspec
import pytest

from engine.model.bundle import ACTION_TYPES, Bundle, Expectation, StateInput, bundle_json_schema


def test_json_schema_names_the_format_and_forbids_unknown_keys(snapshot_json):
    schema = bundle_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$ref"] == "#/$defs/Bundle"
    assert schema["$defs"]["Rule"]["required"] == ["name", "condition", "actions"]
    assert schema["$defs"]["Rule"]["additionalProperties"] is False
    assert snapshot_json == json.loads(json.dumps(schema, sort_keys=True))


def test_every_struct_in_the_schema_forbids_unknown_keys():
    for name, definition in bundle_json_schema()["$defs"].items():
        if definition.get("type") == "object" and "properties" in definition:
            assert definition["additionalProperties"] is False, name


def test_every_action_type_is_in_the_schema():
    text = json.dumps(bundle_json_schema())
    for action_type in ACTION_TYPES:
        assert f'"{action_type}"' in text


def test_test_inputs_accept_plain_numbers():
    case = msgspec.convert({"credits": {"PTS": 10}, "balances": {"PTS": {"held": 2.5}}}, Expectation)
    assert case.credits == {"PTS": 10}
    state = msgspec.convert({"holds": {"PTS": {"auth-1": "12.50"}}}, StateInput)
    assert state.holds == {"PTS": {"auth-1": "12.50"}}


def test_bundle_forbids_unknown_fields():
    with pytest.raises(msgspec.ValidationError, match="unknown field `rulez`"):
        msgspec.convert({"program": {"key": "k", "name": "n"}, "rulez": []}, Bundle)
