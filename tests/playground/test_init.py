from types import ModuleType

import playground


def test_all_lists_exactly_the_public_names():
    public = sorted(
        name
        for name, value in vars(playground).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name != "annotations"
    )
    assert sorted(playground.__all__) == public
