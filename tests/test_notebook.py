"""dlcourse.notebook: glue, the environment check and the last-executed line of every page;
and the stacks `make compat` tests against (tests/compat/)."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import tomllib
import torch

import dlcourse
from dlcourse import notebook

ROOT = Path(__file__).resolve().parents[1]


def test_glue_returns_plain_python_numbers():
    assert dlcourse.glue("t_tensor", torch.tensor(0.25)) == 0.25
    assert type(dlcourse.glue("t_np", np.float32(1.5))) is float
    assert type(dlcourse.glue("t_int", torch.tensor(7))) is int
    assert dlcourse.glue("t_text", "abc") == "abc"


@pytest.mark.parametrize("bad", ["", "has space", "1st", None, 3])
def test_glue_rejects_names_that_myst_cannot_refer_to(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        dlcourse.glue(bad, 1.0)


def test_glue_records_nothing_when_switched_off(monkeypatch, capsys):
    monkeypatch.setenv("DLCOURSE_GLUE", "0")
    assert dlcourse.glue("t_off", 2.0) == 2.0
    assert capsys.readouterr().out == ""


def test_environment_line_names_versions_device_and_profile(capsys, monkeypatch):
    monkeypatch.setenv("DLCOURSE_PROFILE", "quick")
    assert dlcourse.check_environment(trains=True) is None  # prints; nothing to display twice
    line = capsys.readouterr().out.splitlines()[0]
    assert f"torch {torch.__version__}" in line
    assert f"dlcourse {dlcourse.__version__}" in line
    assert "Python 3." in line and "profile: quick" in line
    assert ("GPU: " if torch.cuda.is_available() else "CPU: ") in line


def test_no_warning_on_a_supported_machine():
    assert (
        notebook.environment_warnings(
            True, in_colab=False, cuda=False, torch_version=torch.__version__
        )
        == []
    )


def test_warns_on_a_cpu_colab_runtime_only_for_training_pages():
    supported = notebook.lowest_tested("torch")  # the bound itself is supported
    warn = notebook.environment_warnings(True, in_colab=True, cuda=False, torch_version=supported)
    assert len(warn) == 1 and "Runtime -> Change runtime type -> T4 GPU" in warn[0]
    quiet = {"in_colab": True, "torch_version": supported}
    assert notebook.environment_warnings(False, cuda=False, **quiet) == []
    assert notebook.environment_warnings(True, cuda=True, **quiet) == []


def test_warns_when_torch_is_older_than_the_lowest_tested():
    oldest = notebook.lowest_tested("torch")
    assert oldest == lowest_bounds()["torch"]
    warn = notebook.environment_warnings(
        False, in_colab=False, cuda=False, torch_version="1.13.1+cu117"
    )
    assert len(warn) == 1 and f"older than {oldest}" in warn[0] and "1.13.1" in warn[0]


def test_environment_check_rejects_a_non_bool():
    with pytest.raises(TypeError, match="'yes'"):
        dlcourse.check_environment(trains="yes")


def test_last_executed_says_when_where_and_which_profile(monkeypatch):
    monkeypatch.setenv("DLCOURSE_PROFILE", "quick")
    line = repr(dlcourse.last_executed("ch07_cnn/lenet"))
    assert re.match(r"Last executed: \d{4}-\d\d-\d\d, quick profile, on the (CPU|GPU) ", line)
    assert "Expected time" not in line
    with_cost = dlcourse.last_executed("ch07_cnn/lenet", cost=True)._repr_markdown_()
    assert with_cost.startswith("**Last executed:**") and "\n\n**Expected time:**" in with_cost


def test_last_executed_names_a_bad_page():
    with pytest.raises(ValueError, match="'lenet'"):
        dlcourse.last_executed("lenet")


def lowest_bounds() -> dict[str, str]:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return dict(re.fullmatch(r"([\w-]+)>=([\d.]+)", d).groups() for d in declared)


def pins(stack: str) -> dict[str, str]:
    text = (ROOT / "tests" / "compat" / f"{stack}.txt").read_text()
    return dict(re.findall(r"^([\w-]+)==(\S+)$", text, re.M))


def test_lowest_stack_is_pyprojects_lower_bounds():
    """`make compat` tests the bounds pyproject declares, so the two must not drift."""
    lowest = pins("lowest")
    for package, bound in lowest_bounds().items():
        assert package in lowest, f"tests/compat/lowest.txt does not pin {package}"
        assert lowest[package].startswith(bound), (package, lowest[package], bound)


def test_explained_differences_name_existing_twins():
    sys.path.insert(0, str(ROOT / "code" / "tools"))
    import outside

    for stack in ("colab", "lowest"):
        for twin, reason in outside.explained(ROOT / "tests" / "compat" / f"{stack}.txt").items():
            assert (ROOT / twin).is_file() and reason, (stack, twin)


def test_each_stack_names_its_python_and_the_book_packages():
    for stack in ("colab", "lowest"):
        text = (ROOT / "tests" / "compat" / f"{stack}.txt").read_text()
        assert re.search(r"^# python: 3\.\d+$", text, re.M), stack
        assert set(lowest_bounds()) <= set(pins(stack)), stack


def test_outside_reads_failures_per_twin(tmp_path):
    sys.path.insert(0, str(ROOT / "code" / "tools"))
    import outside

    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite><testcase file="book/a.ipynb" name="Cell 1"/>'
        '<testcase file="book/a.ipynb" name="Cell 2"><failure message="x"/></testcase>'
        '<testcase file="book/b.ipynb" name="Cell 0"><error message="y"/></testcase>'
        "</testsuite></testsuites>"
    )
    expected = {"book/a.ipynb": ["Cell 2"], "book/b.ipynb": ["Cell 0"]}
    assert outside.failures_by_twin(junit) == expected
    junit.write_text(
        '<testsuites><testsuite><testcase file="book/a.ipynb" name="Cell 4">'
        '<failure message="Notebook cell execution failed">Cell outputs differ</failure>'
        "</testcase></testsuite></testsuites>"
    )
    expected = {"book/a.ipynb": ["Cell 4 (differs)"]}
    assert outside.failures_by_twin(junit) == expected


def test_a_stack_is_reinstalled_for_a_new_pin_not_for_a_new_comment():
    sys.path.insert(0, str(ROOT / "code" / "tools"))
    import outside

    text = (ROOT / "tests" / "compat" / "colab.txt").read_text()
    assert outside.installs(text + "# explained: book/x.ipynb: a reason\n") == outside.installs(
        text
    )
    assert outside.installs(text.replace("torch==", "torch==0.")) != outside.installs(text)
    assert outside.installs(text.replace("# python: 3.12", "# python: 3.13")) != outside.installs(
        text
    )
