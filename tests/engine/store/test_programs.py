"""A program's compiled form marked stale."""

from engine.store.models import Program


def test_touch_program_makes_the_compiled_form_stale(world):
    from engine.store.programs import touch_program

    before = Program.get_by_id(world.program.id).rules_version
    touch_program(world.program.id)
    assert Program.get_by_id(world.program.id).rules_version == before + 1
