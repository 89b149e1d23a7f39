"""Helpers shared by the tests that build or check pages: a minimal MyST page, and copies of
the package with and without a planted one-line change in a function that pages use."""

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FRONT_MATTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
# A page
"""


def myst_page(*cells: str) -> str:
    """A notebook page of code cells; a cell may start with its option lines (":tags: ...")."""
    return FRONT_MATTER + "".join(f"\n```{{code-cell}} ipython3\n{c.strip()}\n```\n" for c in cells)


def package_copies(tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of dlcourse under tmp_path (folders to put on PYTHONPATH): as it is, and
    with SyntheticRegressionData adding 0.5 to every target."""
    unchanged, changed = tmp_path / "unchanged", tmp_path / "changed"
    for root in (unchanged, changed):
        shutil.copytree(ROOT / "code" / "dlcourse", root / "dlcourse")
    data_py = changed / "dlcourse" / "data.py"
    source = data_py.read_text()
    drifted = source.replace("+ self.b + noise_term", "+ self.b + 0.5 + noise_term")
    assert drifted != source, "the planted change no longer applies to data.py; update it"
    data_py.write_text(drifted)
    return unchanged, changed


def copy_book_config(tmp_path: Path) -> None:
    """The book's _config.yml in tmp_path, with the local Sphinx extensions it names."""
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "code" / "tools").mkdir(parents=True, exist_ok=True)
    for extension in ("exercise_numbers.py", "editions.py", "term.py"):
        shutil.copy(ROOT / "code" / "tools" / extension, tmp_path / "code" / "tools")
