"""The package's public surface: `__all__` lists exactly what `dlcourse` exports."""

import types

import dlcourse

SUBMODULES_IN_ALL = {"profile", "costs"}  # used as dlcourse.profile.epochs(...), etc.


def test_all_lists_every_public_name_and_nothing_else():
    public = {
        name
        for name, value in vars(dlcourse).items()
        if not name.startswith("_")
        and (not isinstance(value, types.ModuleType) or name in SUBMODULES_IN_ALL)
    }
    assert sorted(set(dlcourse.__all__) - public) == [], "__all__ names missing objects"
    assert sorted(public - set(dlcourse.__all__)) == [], "exported but not in __all__"
    assert len(dlcourse.__all__) == len(set(dlcourse.__all__)), "__all__ repeats a name"
