"""`pages.py release REF` on a temporary copy: it fails loudly when it changes nothing."""

import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "code" / "tools"))
import pages  # noqa: E402  (code/tools/pages.py)

CHAPTER = "ch03_linear_regression"
NAMES = ("synthetic_data", "linear_regression")


@pytest.fixture
def book(tmp_path, monkeypatch):
    """A copy of _config.yml and two pages, pages.py pointed at it. The twins are made from
    this version of each page, unexecuted, and their Colab conversion (tested in
    test_colab.py) is left out: these tests are about what `release` rewrites."""
    folder = tmp_path / "book" / CHAPTER
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "book" / "references.bib", tmp_path / "book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    released = [Path(shutil.copy(ROOT / "book" / CHAPTER / f"{n}.md", folder)) for n in NAMES]
    for page in released:
        twin = pages.read_page(page)
        twin.metadata.pop("jupytext", None)
        nbformat.write(twin, pages.twin_of(page))
    monkeypatch.setattr(pages, "ROOT", tmp_path)
    monkeypatch.setattr(pages, "toc_files", lambda: released)
    monkeypatch.setattr(pages.colab, "colabify", lambda nb, ctx, page: None)
    monkeypatch.setattr(pages.colab, "collect_citations", lambda bib: {})  # used by colabify
    return tmp_path


def install_cells(page):
    twin = nbformat.read(pages.twin_of(page), as_version=4)
    return pages.code_cells(pages.read_page(page))[0], pages.code_cells(twin)[0]


def test_release_pins_every_page_and_twin(book):
    pages.release("2026f")
    assert pages.install_ref()[1] == "2026f"
    for page in pages.notebook_pages():
        assert all("d2l-course-book@2026f" in cell for cell in install_cells(page))
    assert pages.check() == []


def test_releasing_the_same_ref_again_changes_nothing_and_fails(book):
    pages.release("2026f")
    with pytest.raises(ValueError, match="release '2026f' changed nothing: .* all 2 notebook"):
        pages.release("2026f")
    assert pages.main(["release", "2026f"]) == 1


def test_a_page_whose_install_cell_did_not_change_is_named(book, monkeypatch):
    stuck = pages.notebook_pages()[1]
    write = pages.write_install_cell
    monkeypatch.setattr(pages, "write_install_cell", lambda p: p != stuck and write(p))
    with pytest.raises(ValueError) as error:
        pages.release("2026f")
    message = str(error.value)
    assert f"does not pin '2026f' in book/{CHAPTER}/linear_regression.md;" in message
    assert "synthetic_data" not in message


def test_a_config_without_a_branch_line_fails(book):
    config = book / "_config.yml"
    config.write_text(config.read_text().replace("  branch: main\n", ""))
    with pytest.raises(ValueError, match="repository.branch was not set to '2026s'"):
        pages.release("2026s")
