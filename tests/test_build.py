"""Planted failure: with the book's own _config.yml, a page cell that raises fails the build,
and the same page with the cell repaired builds cleanly."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from book_helpers import copy_book_config, myst_page

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"


def build(tmp_path: Path, code: str) -> subprocess.CompletedProcess:
    book = tmp_path / "book"
    book.mkdir(exist_ok=True)
    (book / "index.md").write_text(myst_page(code))
    return subprocess.run(
        [str(JUPYTER_BOOK), "build", str(tmp_path), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_a_cell_that_raises_fails_the_build(tmp_path):
    copy_book_config(tmp_path)
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "book" / "references.bib", tmp_path / "book" / "references.bib")
    shutil.copytree(ROOT / "book" / "_static", tmp_path / "book" / "_static")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/index\n")

    broken = build(tmp_path, 'raise RuntimeError("planted failure")')
    output = broken.stdout + broken.stderr
    assert broken.returncode != 0
    assert "Executing notebook failed" in output
    log = tmp_path / "_build" / "html" / "reports" / "book" / "index.err.log"
    plain = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text())  # drop the ANSI colours
    assert "RuntimeError: planted failure" in plain

    repaired = build(tmp_path, 'print("repaired")')
    assert repaired.returncode == 0, (repaired.stdout + repaired.stderr)[-3000:]
    assert "repaired" in (tmp_path / "_build" / "html" / "book" / "index.html").read_text()
