"""The student edition as `make book EDITION=student` built it (_build/student/html): rendered
from the full build's executions, with the unreleased solutions held back everywhere a
student can read (tests/test_editions.py plants a sentence in a small book; this checks the
real one)."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STUDENT = ROOT / "_build" / "student" / "html"
sys.path.insert(0, str(ROOT / "code" / "tools"))
import term  # noqa: E402

import pages  # noqa: E402


@pytest.fixture(scope="module")
def built() -> dict:
    record = STUDENT / "edition.json"
    if not record.exists():
        pytest.fail(f"no student edition in {STUDENT}: run `make book EDITION=student`")
    return json.loads(record.read_text())


def hidden_pages(built) -> list[Path]:
    day = term.datetime.date.fromisoformat(built["today"])
    schedule = term.load()
    return [p for p in pages.notebook_pages() if not schedule.released(p, day)]


def test_the_student_edition_executed_no_page(built):
    assert built["pages_executed"] == 0, built
    assert built["pages_rendered"] == len(pages.notebook_pages())


def test_unreleased_pages_show_release_dates_instead_of_solutions(built):
    hidden = hidden_pages(built)
    assert built["solutions_removed"] > 0 or not hidden
    for page in hidden:
        if "{solution-start}" not in page.read_text():
            continue  # a page without exercises (the status page)
        html = (STUDENT / page.relative_to(ROOT)).with_suffix(".html").read_text()
        assert "Solution to Exercise" not in html, page.name
        assert "The solution is released on" in html, page.name
        assert "book/student/" in html, f"{page.name}: Colab should open the student twin"
        download = STUDENT / "_sources" / page.relative_to(ROOT).with_suffix(".ipynb")
        assert "Solution to Exercise" not in download.read_text(), download


def test_the_search_index_holds_no_unreleased_solution_heading(built):
    text = (STUDENT / "searchindex.js").read_text()
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    hidden = {str(p.relative_to(ROOT).with_suffix("")) for p in hidden_pages(built)}
    hidden_ids = {i for i, name in enumerate(index["docnames"]) if name in hidden}
    leaks = [
        (title, index["docnames"][doc])
        for title, places in index["alltitles"].items()
        if title.startswith("Solution to Exercise")
        for doc, _ in places
        if doc in hidden_ids
    ]
    assert not leaks, leaks[:5]
    assert not list((STUDENT / "_sources").rglob("*.md")), "page sources must not be copied"
