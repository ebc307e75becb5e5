"""Pane texts shared by the playground's view and browser tests."""

import json

BUNDLE = """\
program:
  key: cafe
  name: Cafe
assets:
  - symbol: POINTS
    name: Points
    scale: 0
rules:
  - name: coffee points
    order: 10
    condition: event.item == 'coffee'
    actions:
      - type: CREDIT
        asset_id: POINTS
        amount: int(event.price) * 2
  - name: cake points
    order: 20
    condition: >-
      event.item == 'cake' && 'member' in participant.tags
    actions:
      - type: CREDIT
        asset_id: POINTS
        amount: 5
      - type: TAG
        tag: cake_lover
"""

# Line 11 holds the first condition, where `==` becomes `= =`.
BROKEN_LINE = 11
BROKEN_BUNDLE = BUNDLE.replace("event.item == 'coffee'", "event.item = = 'coffee'")


def event(item: str, price: float = 3.0) -> str:
    return json.dumps(
        {"event_timestamp": "2026-05-04T10:00:00Z", "event_data": {"item": item, "price": price}}, indent=2
    )


PARTICIPANT = "tags: [member]\nbalances:\n  POINTS: 10\n"

SINGLE_RULE = """\
name: lone rule
condition: event.price > 2.0
actions:
  - type: CREDIT
    asset_id: STAMPS
    amount: 1
"""

EXAMPLE = (
    BUNDLE
    + """\
tests:
  - name: member buys cake
    event_timestamp: 2026-05-04T10:00:00Z
    event: {item: cake, price: 4.0}
    participant:
      tags: [member]
    expect:
      matched: [cake points]
"""
)
