"""Tests of the pages and their twins: code in sync, Colab cells current, nbval can fail."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from book_helpers import package_copies

from dlcourse import kaggle_house

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "code" / "tools"))
import pages  # noqa: E402  (the maintainer tool, code/tools/pages.py)

NOTEBOOK_PAGES = pages.notebook_pages()
DRIFT_PAGE = ROOT / "book" / "ch03_linear_regression" / "synthetic_data.md"


def test_every_toc_file_exists():
    missing = [str(p.relative_to(ROOT)) for p in pages.toc_files() if not p.exists()]
    assert not missing, f"_toc.yml names files that do not exist: {missing}"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_twin_has_the_same_code_cells_as_its_page(page):
    twin = pages.twin_of(page)
    assert twin.exists(), f"{twin} is missing: run `make notebooks PAGES={page}`"
    page_cells = pages.code_cells(pages.read_page(page))
    twin_cells = pages.code_cells(nbformat.read(twin, as_version=4))
    assert twin_cells == page_cells, f"{twin.name} is stale: run `make notebooks`"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_twin_is_executed_without_errors_except_on_purpose(page):
    nb = nbformat.read(pages.twin_of(page), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"unexecuted cell in {page.name}: {cell.source}"
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if "raises-exception" not in cell.metadata.get("tags", []):
            assert not errors, f"{page.name}: unexpected error in cell {cell.source[:60]!r}"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_cell_that_draws_a_figure_shows_it(page):
    """Without ``plt.show()`` the inline backend of some matplotlib versions (3.7, pyproject's
    lower bound) shows the figure under the *next* cell: the twin then differs by stack."""
    drawing = ("dlcourse.plot(", "plt.subplots(", "plt.figure(")
    for source in pages.code_cells(pages.read_page(page)):
        if any(call in source for call in drawing):
            assert "plt.show()" in source, f"{page.name}: end this cell with plt.show():\n{source}"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_first_cell_is_the_current_colab_install_cell(page):
    nb = pages.read_page(page)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "remove-cell" in first.metadata.get("tags", [])
    assert first.source.strip() == pages.install_cell_source(page).strip()
    url, ref = pages.install_ref()
    assert f"git+{url}@{ref}" in first.source and "--no-deps" in first.source


# What a Colab runtime has without installing anything (tests/compat/colab.txt, by the names
# the code imports), and what a page may install for itself in its first cell.
COLAB_STACK = {"torch", "torchvision", "numpy", "pandas", "matplotlib", "scipy", "tqdm",
               "IPython", "PIL", "yaml", "requests"}  # fmt: skip
IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", re.M)


def twin_needs(twin: Path) -> tuple[set[str], bool]:
    """The top-level modules a twin's code imports, and whether it reads 5.7's data."""
    code = "\n".join(pages.code_cells(nbformat.read(twin, as_version=4))[1:])
    reads_kaggle = re.search(r"\b(KaggleHouse|kaggle_house_files)\(", code) is not None
    return set(IMPORT.findall(code)), reads_kaggle


def missing_from_colab(twin: Path) -> list[str]:
    """What a twin needs that neither Colab nor its own install cell provides."""
    first = pages.code_cells(nbformat.read(twin, as_version=4))[0]
    installed = pages.installed_by(first)
    modules, reads_kaggle = twin_needs(twin)
    cell_modules = {r.split("==")[0].replace("-", "_") for r in installed}
    known = COLAB_STACK | set(sys.stdlib_module_names) | {"dlcourse"} | cell_modules
    missing = sorted(m for m in modules if m not in known)
    if reads_kaggle and kaggle_house.REQUIREMENT not in installed:
        missing.append(kaggle_house.REQUIREMENT)
    return missing


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_twin_installs_what_colab_lacks(page):
    missing = missing_from_colab(pages.twin_of(page))
    assert not missing, f"{page.name} needs {missing}, which its Colab cell does not install"


def test_a_twin_that_forgets_its_data_wheel_is_caught(tmp_path):
    twin = pages.twin_of(ROOT / "book" / "ch05_mlp" / "kaggle_house_price.md")
    nb = nbformat.read(twin, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert kaggle_house.REQUIREMENT in first.source
    first.source = pages.install_cell_source()  # dlcourse only, as before the fix
    nbformat.write(nb, tmp_path / twin.name)
    assert missing_from_colab(tmp_path / twin.name) == [kaggle_house.REQUIREMENT]


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_twins_that_train_ask_colab_for_a_gpu(page):
    metadata = nbformat.read(pages.twin_of(page), as_version=4).metadata
    if pages.trains(page):
        assert metadata.get("accelerator") == "GPU" and metadata["colab"]["gpuType"] == "T4"
    else:
        assert "accelerator" not in metadata and "gpuType" not in metadata.get("colab", {})


# Pages that teach devices; everywhere else tensors stay on the CPU and the Trainer moves
# its own copies (a page that moves tensors itself breaks on a GPU after a fit).
DEVICE_PAGES = {"ndarray.md", "use_gpu.md", "running_notebooks.md", "backprop.md"}


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_leave_devices_to_the_trainer(page):
    if page.name in DEVICE_PAGES:
        return
    code = "\n".join(pages.code_cells(pages.read_page(page))[3:])  # after the generated cells
    moves = re.findall(r"try_gpu\(|\.cuda\(|device=[^)\n]*cuda", code)
    assert not moves, f"{page.name} moves tensors itself ({moves}); leave it to the Trainer"


def test_install_cell_does_nothing_outside_colab():
    namespace: dict = {}
    exec(pages.install_cell_source(), namespace)  # would pip-install if it thought it was Colab
    assert "google.colab" not in sys.modules


def test_sync_check_reports_a_stale_twin(tmp_path, monkeypatch):
    """The check fails, naming the page and the cell, when a twin's code differs."""
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book" / "ch03_linear_regression", book / "ch03_linear_regression")
    pages.student.write_student_twin(book / "ch03_linear_regression" / "synthetic_data.md")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.setattr(pages, "ROOT", tmp_path)
    monkeypatch.setattr(
        pages, "toc_files", lambda: [book / "ch03_linear_regression" / "synthetic_data.md"]
    )
    assert pages.check() == []
    twin = book / "ch03_linear_regression" / "synthetic_data.ipynb"
    nb = nbformat.read(twin, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[3].source += "\nprint('edited in the notebook, not the page')"
    nbformat.write(nb, twin)
    problems = pages.check()
    assert len(problems) == 2, problems  # the twin, and the student twin made from it
    assert "synthetic_data.md: twin's code differs from the page from code cell 4" in problems[0]
    assert "student/ch03_linear_regression/synthetic_data.ipynb: out of step" in problems[1]


def run_nbval(twin: Path, package_root: Path) -> subprocess.CompletedProcess:
    """nbval on one twin, with `dlcourse` imported from `package_root`."""
    env = {**__import__("os").environ, "PYTHONPATH": str(package_root), "DLCOURSE_GLUE": "0"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--nbval",
            "-q",
            "--nbval-sanitize-with",
            str(ROOT / "tests" / "nbval_sanitize.cfg"),
            "-o",
            "addopts=",
            "-o",
            "filterwarnings=",
            str(twin),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=twin.parent,
    )


@pytest.mark.slow
def test_nbval_fails_when_a_function_the_page_uses_changes(tmp_path):
    """Drift test: the same twin passes with the package as it is and fails with a changed
    SyntheticRegressionData, pointing at a cell whose output depends on it."""
    twin = tmp_path / "synthetic_data.ipynb"
    shutil.copy(pages.twin_of(DRIFT_PAGE), twin)
    unchanged, changed = package_copies(tmp_path)

    passing = run_nbval(twin, unchanged)
    assert passing.returncode == 0, passing.stdout[-2000:]
    failing = run_nbval(twin, changed)
    assert failing.returncode != 0
    assert "Cell outputs differ" in failing.stdout
    first = next(  # the first cell that prints data from the package's generator
        i
        for i, c in enumerate(c for c in nbformat.read(twin, 4).cells if c.cell_type == "code")
        if "dlcourse.SyntheticRegressionData(" in c.source
    )
    assert f"Cell {first}: Cell outputs differ" in failing.stdout, failing.stdout[-3000:]
    assert "label:" in failing.stdout  # the cell that prints a generated label


def test_external_links_are_listed_in_one_place():
    import links  # code/tools/links.py

    in_pages, listed = links.urls_in_pages(), links.listed()
    assert in_pages == listed, (
        f"book/links.txt is out of date: new {sorted(set(in_pages) - set(listed))}, "
        f"gone {sorted(set(listed) - set(in_pages))}; update it from "
        "`python code/tools/links.py list` (and check them with `make links`)"
    )


def test_release_pins_colab_installs_to_a_term_tag(tmp_path, monkeypatch):
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book" / "ch03_linear_regression", book / "ch03_linear_regression")
    shutil.copy(ROOT / "book" / "references.bib", book / "references.bib")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    page = book / "ch03_linear_regression" / "synthetic_data.md"
    monkeypatch.setattr(pages, "ROOT", tmp_path)
    monkeypatch.setattr(pages, "toc_files", lambda: [page])

    pages.release("2026f")
    assert pages.install_ref()[1] == "2026f"
    twin = nbformat.read(pages.twin_of(page), as_version=4)
    first_code = next(c for c in twin.cells if c.cell_type == "code")
    assert "d2l-course-book@2026f" in first_code.source
    assert pages.check() == []
    with pytest.raises(ValueError, match="'fall26' is neither 'main' nor a term tag"):
        pages.release("fall26")


def test_generated_cells_follow_the_install_cell_and_replace_only_their_own(tmp_path, monkeypatch):
    monkeypatch.setattr(pages, "ROOT", tmp_path)
    page = tmp_path / "book" / "ch09" / "p.md"
    page.parent.mkdir(parents=True)
    fence = "```"
    cell = fence + "{code-cell} ipython3\n%s\n" + fence + "\n"
    own = cell % "from dlcourse.notebook import check_environment\n\ncheck_environment()"
    old_cost = cell % ':tags: [remove-input]\n\ndlcourse.expected_cost("ch09/p")'
    install = (
        f"{fence}{{code-cell}} ipython3\n:tags: [remove-cell]\n\n{pages.INSTALL_MARKER}\n{fence}\n"
    )
    page.write_text(f"# P\n\n{install}\nText.\n\n{old_cost}\n{own}\nmodel.fit(x)\n")

    assert pages.write_run_cells(page)
    text = page.read_text()
    assert text.index(pages.INSTALL_MARKER) < text.index("dlcourse.check_environment(trains=True)")
    assert text.index('dlcourse.last_executed("ch09/p", cost=True)') < text.index("Text.")
    assert (
        "expected_cost" not in text and own in text
    )  # the old cost cell went, a page's own stayed
    assert not pages.write_run_cells(page)  # idempotent


def test_a_rewritten_twin_keeps_its_cell_ids():
    """Writing a twin again changes only what changed: each cell keeps the id of the cell of
    its kind at the same place in the old twin; solution headings keep their fixed ids."""
    v4 = nbformat.v4
    md, code = v4.new_markdown_cell, v4.new_code_cell
    old = v4.new_notebook(cells=[md("# Title"), code("x = 1"), md("text"), code("print(x)")])
    new = v4.new_notebook(
        cells=[md("# Title"), code("x = 1"), md("new text"), code("print(x)"), md("### Sol")]
    )
    new.cells[-1].id = "solution-1"
    assert [c.id for c in new.cells[:4]] != [c.id for c in old.cells]

    pages.keep_cell_ids(new, old)

    assert [c.id for c in new.cells[:4]] == [c.id for c in old.cells]
    assert new.cells[-1].id == "solution-1"
