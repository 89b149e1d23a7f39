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


def test_all_is_sorted_so_that_each_name_has_one_place():
    assert dlcourse.__all__ == sorted(dlcourse.__all__, key=str.lower)


def test_every_public_name_is_defined_in_the_package():
    for name in dlcourse.__all__:
        value = getattr(dlcourse, name)
        home = value.__name__ if isinstance(value, types.ModuleType) else value.__module__
        assert home.startswith("dlcourse."), f"{name} comes from {home}, not from dlcourse"


def test_the_version_is_written_once_and_the_installed_metadata_agrees():
    import importlib.metadata
    from pathlib import Path

    import tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "dlcourse.__version__"
    # After a version change, `pip install -e .` (make setup) refreshes the metadata.
    assert importlib.metadata.version("dlcourse") == dlcourse.__version__
