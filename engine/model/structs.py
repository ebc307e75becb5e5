"""The base of the bundle's Structs and the field types every part of a bundle shares.

class Piece(Struct, kw_only=True):
    name: Name
    description: Description | None = None
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from engine.model.instants import read_instants

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Description = Annotated[str, msgspec.Meta(max_length=1000)]
# Amounts people write in test cases and the playground: a decimal string or a plain YAML number.
Quantity = str | int | float


class Struct(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """Base of every bundle Struct: unknown keys are errors, defaults are not echoed; `Instant`
    fields are RFC 3339 text with an offset."""

    def __post_init__(self) -> None:
        read_instants(self)
