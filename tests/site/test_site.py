"""Tests of the built website: every page there, Colab buttons, figures, solutions, errors."""

import functools
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

import pages  # code/tools/pages.py, put on sys.path by conftest.py

ROOT = pages.ROOT
TOC_PAGES = pages.toc_files()
NOTEBOOK_PAGES = pages.notebook_pages()
LESSONS = [p for p in NOTEBOOK_PAGES if p.parent.name.startswith("ch")]  # not the appendix


def html_of(html_root: Path, page: Path) -> Path:
    return html_root / page.relative_to(ROOT).with_suffix(".html")


@functools.cache
def soup_of(html_root: Path, page: Path) -> BeautifulSoup:
    """The parsed page, once for all the tests that read it (none changes it)."""
    return BeautifulSoup(html_of(html_root, page).read_text(), "html.parser")


def ids(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", TOC_PAGES, ids=ids)
def test_every_page_in_the_toc_is_built(html_root, page):
    assert html_of(html_root, page).exists()


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=ids)
def test_colab_button_opens_the_committed_twin(html_root, page):
    url, branch = pages.install_ref()
    org_repo = re.sub(r"^https://github\.com/", "", url)
    rel = page.relative_to(ROOT).with_suffix(".ipynb")
    expected = f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/{rel}"
    links = [
        a["href"]
        for a in soup_of(html_root, page).find_all("a", href=True)
        if "colab.research.google.com" in a["href"]
    ]
    assert links == [expected]
    assert (ROOT / rel).is_file()


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=ids)
def test_colab_install_cell_is_hidden(html_root, page):
    assert pages.INSTALL_MARKER not in html_of(html_root, page).read_text()


@pytest.mark.parametrize("page", TOC_PAGES, ids=ids)
def test_every_image_exists(html_root, page):
    path = html_of(html_root, page)
    for img in soup_of(html_root, page).find_all("img"):
        src = img.get("src", "")
        if src.startswith(("http://", "https://", "data:")):
            continue
        assert (path.parent / src).resolve().is_file(), f"broken image {src} on {path.name}"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=ids)
def test_errors_appear_only_in_cells_tagged_raises_exception(html_root, page):
    for cell in soup_of(html_root, page).select("div.cell"):
        if cell.select(".output.traceback"):
            assert "tag_raises-exception" in cell["class"], cell.get_text()[:300]


@pytest.mark.parametrize("page", LESSONS, ids=ids)
def test_each_exercise_has_a_folded_solution(html_root, page):
    soup = soup_of(html_root, page)
    exercises = soup.select("div.exercise")
    solutions = soup.select("div.solution")
    assert exercises, f"{page.name} has no exercises"
    assert len(solutions) == len(exercises)
    assert all("dropdown" in s["class"] for s in solutions), "solutions must start folded"


@pytest.mark.parametrize("page", LESSONS, ids=ids)
def test_page_ends_with_summary_exercises_and_solutions(html_root, page):
    headings = [h.get_text().strip("#¶ \n") for h in soup_of(html_root, page).select("h2")]
    assert headings[-3:] == ["Summary", "Exercises", "Solutions"], headings


@pytest.mark.parametrize("page", LESSONS, ids=ids)
def test_exercises_are_numbered_within_the_page(html_root, page):
    soup = soup_of(html_root, page)
    titles = [e.select_one("p.admonition-title").get_text(" ", strip=True) for e in
              soup.select("div.exercise")]  # fmt: skip
    numbers = [re.search(r"Exercise (\d+)", t).group(1) for t in titles]
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)], titles
    answered = [
        re.search(r"Exercise (\d+)", s.select_one("p.admonition-title").get_text(" ")).group(1)
        for s in soup.select("div.solution")
    ]
    assert sorted(answered, key=int) == numbers, f"solutions name exercises {answered}"
