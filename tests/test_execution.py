"""One execution per page per build (code/tools/execution.py, code/tools/nbval_replay.py).

The slow test builds a one-page book three times to show the three guarantees together: the
build's own execution is what the output check compares with the twin; a one-line change in a
dlcourse function that the page uses fails that check; and the change is not served from a
stale cache (jupyter-cache alone would serve it, which the test shows first).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from book_helpers import copy_book_config, myst_page, package_copies

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "code" / "tools"
sys.path.insert(0, str(TOOLS))
import execution  # noqa: E402  (the maintainer tool, code/tools/execution.py)

PAGE = myst_page(
    """
import dlcourse

dlcourse.set_seed(0)
data = dlcourse.SyntheticRegressionData(w=[2.0, -3.4], b=4.2, num_train=3, num_val=1)
print(data.y[:3, 0].round(decimals=3))
""",
    """
:tags: [nbval-ignore-output]

import time
print(time.time())  # differs on every run: the tag keeps it out of the comparison
""",
)


def test_stamp_changes_with_any_package_source_or_measured_record(tmp_path):
    package = tmp_path / "dlcourse"
    shutil.copytree(ROOT / "code" / "dlcourse", package)
    before = execution.package_stamp(package)
    assert execution.package_stamp(package) == before
    (package / "records" / "execution_times.csv").write_text("page\n")  # every build's own
    assert execution.package_stamp(package) == before
    (package / "records" / "gpu_runs.csv").write_text("page\n")  # a measured run: cost lines
    changed_record = execution.package_stamp(package)
    assert changed_record != before
    before = changed_record
    with (package / "tensors.py").open("a") as f:
        f.write("\n# one more line\n")
    assert execution.package_stamp(package) != before


def test_guard_keeps_matching_executions_and_forgets_stale_ones(tmp_path):
    package, build = tmp_path / "dlcourse", tmp_path / "_build"
    shutil.copytree(ROOT / "code" / "dlcourse", package)
    assert execution.guard(build, package)  # a new build folder
    for name in (".jupyter_cache", ".doctrees"):
        (build / name).mkdir()
        (build / name / "executed.txt").write_text("an execution")
    assert not execution.guard(build, package)
    assert (build / ".jupyter_cache" / "executed.txt").exists()
    with (package / "data.py").open("a") as f:
        f.write("\n# a change\n")
    assert execution.guard(build, package)
    assert not (build / ".jupyter_cache").exists() and not (build / ".doctrees").exists()
    assert (build / "dlcourse.stamp").read_text() == execution.package_stamp(package)


def make_book(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book" / "_static", book / "_static")
    shutil.copy(ROOT / "book" / "references.bib", book / "references.bib")
    copy_book_config(tmp_path)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/index\n")
    (book / "index.md").write_text(PAGE)
    return book / "index.md"


def build_and_check(tmp_path: Path, package_root: Path, reference: Path):
    """Build the book with `dlcourse` from ``package_root``, export the executed page and
    compare it with ``reference`` by nbval's rules; return (executed notebook, check)."""
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    built = subprocess.run(
        [str(jupyter_book), "build", str(tmp_path), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert built.returncode == 0, (built.stdout + built.stderr)[-3000:]
    page = tmp_path / "book" / "index.md"
    _, nb = execution.executed(page, tmp_path / "_build" / ".jupyter_cache")
    executed = tmp_path / "executed" / "book" / "index.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    import nbformat

    nbformat.write(nb, executed)
    if not reference.exists():
        shutil.copy(executed, reference)
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "nbval_replay",
            "--replay-from",
            str(tmp_path / "executed"),
            "--nbval-sanitize-with",
            str(ROOT / "tests" / "nbval_sanitize.cfg"),
            "--rootdir",
            str(tmp_path),
            "-o",
            "addopts=",
            "-o",
            "filterwarnings=",
            "-q",
            str(reference),
        ],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": f"{TOOLS}{os.pathsep}{package_root}"},
        cwd=tmp_path,
    )
    return nb, check


@pytest.mark.slow
def test_a_package_change_reexecutes_the_page_and_fails_the_output_check(tmp_path):
    make_book(tmp_path)
    build = tmp_path / "_build"
    reference = tmp_path / "book" / "index.ipynb"  # plays the committed twin
    unchanged, changed = package_copies(tmp_path)

    # 1. The build executes the page once; its outputs pass the check against the twin.
    assert execution.guard(build, unchanged / "dlcourse")
    nb, check = build_and_check(tmp_path, unchanged, reference)
    assert check.returncode == 0, check.stdout[-3000:]
    assert "2 passed" in check.stdout
    first_output = nb.cells[1].outputs[0].text

    # 2. The hazard: with the package changed but the build not guarded, the old outputs
    #    are served (Sphinx re-reads only changed pages; jupyter-cache matches code cells).
    nb, check = build_and_check(tmp_path, changed, reference)
    assert nb.cells[1].outputs[0].text == first_output
    assert check.returncode == 0

    # 3. The guard sees the changed package, forgets the executions, and the re-executed page
    #    fails the output check at the cell that prints the generated targets.
    assert execution.guard(build, changed / "dlcourse")
    nb, check = build_and_check(tmp_path, changed, reference)
    assert nb.cells[1].outputs[0].text != first_output
    assert check.returncode != 0
    assert "Cell 0: Cell outputs differ" in check.stdout, check.stdout[-3000:]


@pytest.mark.slow
def test_execute_fills_the_cache_the_build_reads_and_leaves_failures_out(tmp_path):
    page = make_book(tmp_path)
    broken = page.parent / "broken.md"
    broken.write_text(myst_page('raise ValueError("a planted failure")'))
    cache = tmp_path / "_build" / ".jupyter_cache"

    failed = execution.execute([page, broken], jobs=2, cache_dir=cache)

    assert failed == [broken]
    with pytest.raises(LookupError, match="no execution of this version"):
        execution.executed(broken, cache)
    _, executed = execution.executed(page, cache)
    broken.unlink()  # not in the table of contents: the build would warn about it

    # The build takes the page from the cache: the clock the page printed is the same.
    built, check = build_and_check(tmp_path, ROOT / "code", tmp_path / "book" / "index.ipynb")
    assert check.returncode == 0, check.stdout[-3000:]

    def clock(nb):
        (cell,) = [c for c in nb.cells if "time.time()" in c.source]
        return cell.outputs[0].text

    assert clock(built) == clock(executed)


def test_a_kernel_that_dies_fails_its_page_not_the_run(tmp_path, monkeypatch):
    page = make_book(tmp_path)

    def dead_kernel(*args, **kwargs):
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(execution, "single_nb_execution", dead_kernel)
    returned_page, _, seconds, error = execution._execute_one(page, timeout=10)
    assert returned_page == page and seconds >= 0
    assert "Kernel died before replying to kernel_info" in error
