"""The term file, the student edition and the assignment notebooks (code/tools/term.py,
editions.py, student.py): a sentence planted in a solution reaches no student artifact, and
the release date decides what the student edition shows."""

import copy
import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from book_helpers import FRONT_MATTER, copy_book_config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "code" / "tools"))
import student  # noqa: E402
import term  # noqa: E402

import pages  # noqa: E402

PLANTED = "Zebra-quartz-planted-answer"
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"


# -- the term file -------------------------------------------------------------------------
def write_term(tmp_path, body: str) -> Path:
    path = tmp_path / "term.yml"
    path.write_text("term: Test term\nassignments:\n" + body)
    return path


PAGES = {"2.1": ROOT / "book/ch02_preliminaries/ndarray.md", "2.2": ROOT / "book/x.md"}
GOOD = "  - number: 1\n    title: One\n    due: 2026-10-05\n    release: 2026-10-07\n"


def test_the_books_term_file_is_valid_and_assignment_1_is_the_courses():
    loaded = term.load()
    first = loaded.assignments[0]
    assert first.sections == tuple(
        [
            "2.1",
            "2.2",
            "2.3",
            "2.5",
            "3.1",
            "3.2",
            "3.4",
            "4.1",
            "4.2",
            "4.3",
            "4.4",
            "5.1",
            "5.2",
            "5.3",
        ]
    )
    assert all(a.release >= a.due for a in loaded.assignments)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (GOOD.replace("2026-10-05", "2026-13-05") + "    sections: [2.1]\n",
         r"line 3: the due date '2026-13-05' is not a date; write it as YYYY-MM-DD"),
        (GOOD + "    sections: [2.1, 9.9]\n", r"line 3: assignment 1 names section 9\.9"),
        (GOOD.replace("2026-10-07", "2026-10-01") + "    sections: [2.1]\n",
         r"line 3: assignment 1 releases its solutions on 2026-10-01, before it is due"),
        (GOOD + "    sections: [2.1]\n" + GOOD.replace("1", "2", 1) + "    sections: [2.1]\n",
         r"line 8: section 2\.1 is already in assignment 1"),
        (GOOD, r"line 3: the assignment has no sections"),
    ],
    ids=["bad-date", "unknown-section", "release-before-due", "section-twice", "no-sections"],
)  # fmt: skip
def test_mistakes_in_the_term_file_name_their_line(tmp_path, entry, message):
    with pytest.raises(term.TermError, match=message):
        term.load(write_term(tmp_path, entry), PAGES)


def test_release_follows_the_date_and_pages_outside_assignments_go_last(tmp_path):
    two = GOOD + "    sections: [2.1]\n" + GOOD.replace("number: 1", "number: 2").replace(
        "2026-10-07", "2026-12-01"
    ) + "    sections: [2.2]\n"  # fmt: skip
    loaded = term.load(write_term(tmp_path, two), PAGES)
    page = PAGES["2.1"]
    assert not loaded.released(page, datetime.date(2026, 10, 6))
    assert loaded.released(page, datetime.date(2026, 10, 7))
    elsewhere = ROOT / "book/ch06_builders_guide/parameters.md"
    assert loaded.release_of(elsewhere) == datetime.date(2026, 12, 1)


def test_today_can_be_set_and_a_bad_one_is_named(monkeypatch):
    monkeypatch.setenv("TODAY", "2027-01-31")
    assert term.today() == datetime.date(2027, 1, 31)
    monkeypatch.setenv("TODAY", "31/01/2027")
    with pytest.raises(term.TermError, match=r"TODAY='31/01/2027' is not a date"):
        term.today()


# -- student twins and assignments ---------------------------------------------------------
SYNTHETIC = ROOT / "book" / "ch03_linear_regression" / "synthetic_data.md"


def planted_twin():
    """The twin of 3.3 with the planted sentence in a solution's prose, code and output, and
    in the glued values (which the prose of a solution may quote)."""
    twin = nbformat.read(SYNTHETIC.with_suffix(".ipynb"), as_version=4)
    inside = [c for c in twin.cells if c.metadata.get("hidden")]
    prose = next(c for c in inside if c.cell_type == "markdown")
    code = next(c for c in inside if c.cell_type == "code")
    prose.source += f"\n\n{PLANTED} in the prose."
    code.source += f"\nprint('{PLANTED}')"
    code.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=PLANTED))
    twin.metadata.setdefault("dlcourse", {}).setdefault("glue", {})["planted"] = PLANTED
    return twin


def test_a_student_twin_holds_no_solution_and_an_answer_cell_per_exercise():
    twin = planted_twin()
    assert PLANTED in json.dumps(twin)
    made = student.student_twin(twin, SYNTHETIC, term.load())
    text = json.dumps(made)
    assert PLANTED not in text
    assert "Solution to Exercise" not in text
    labels = student.exercise_labels(SYNTHETIC)
    answers = [
        c.metadata["dlcourse"]["answer"]
        for c in made.cells
        if c.cell_type == "code" and "answer" in c.metadata.get("dlcourse", {})
    ]
    assert answers == labels and len(labels) == 4
    release = term.load().release_of(SYNTHETIC)
    assert f"from {release.day} {release:%B %Y}" in text  # where the solutions were


def test_every_committed_student_twin_is_current_and_solution_free():
    problems = [p for page in pages.notebook_pages()
                for p in pages.student_twin_problems(page, term.load())]  # fmt: skip
    assert not problems, problems
    for page in pages.notebook_pages():
        nb = nbformat.read(student.student_path(page), as_version=4)
        assert not any(student.is_solution_cell(c) for c in nb.cells), page.name


def test_an_assignment_holds_its_sections_and_no_solution(tmp_path, monkeypatch):
    monkeypatch.setattr(student, "STUDENT", tmp_path / "student")
    loaded = term.load()
    number = next(a.number for a in loaded.assignments if "3.3" in a.sections)
    for section in next(a for a in loaded.assignments if a.number == number).sections:
        page = loaded.pages[section]
        twin = planted_twin() if page == SYNTHETIC else nbformat.read(
            page.with_suffix(".ipynb"), as_version=4)  # fmt: skip
        student.write_student_twin(page, twin, loaded)
    nb = student.assignment_notebook(loaded, number, "https://example.org/")
    text = json.dumps(nb)
    assert PLANTED not in text and "Solution to Exercise" not in text
    headings = [c.source.splitlines()[0] for c in nb.cells if c.source.startswith("## ")]
    assert headings[0].startswith("## 3.3 Synthetic Regression Data")
    discussions = [c for c in nb.cells if c.source.startswith("### ") and "Discussion" in c.source]
    assert len(discussions) == len(headings)
    assert nb.cells[1].source.startswith(pages.INSTALL_MARKER)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_the_committed_assignments_are_current(tmp_path, monkeypatch):
    monkeypatch.setattr(student, "ASSIGNMENTS", tmp_path / "book")
    monkeypatch.setattr(student, "BUILD_ASSIGNMENTS", tmp_path / "build")
    for path in student.write_assignments():
        committed = ROOT / "book" / "assignments" / path.name
        assert committed.read_text() == path.read_text(), f"run `make assignments` ({path.name})"


# -- the student edition of a small book -----------------------------------------------------
PAGE = (
    FRONT_MATTER.replace("# A page", "# 9.1 A Planted Section")
    + """
```{code-cell} ipython3
x = 2
```

```{exercise}
:label: ex-planted

What is twice x?
```

```{solution-start} ex-planted
:class: dropdown
```

The answer is four. """
    + PLANTED
    + """

```{code-cell} ipython3
print("the output says", x * 2, "PLANTED")
```

```{solution-end}
```
""".replace("PLANTED", PLANTED)
)


def build_edition(tmp_path: Path, today: str) -> Path:
    """The student edition of a one-section book, built as on `today`; its html folder."""
    book = tmp_path / "book"
    if not book.exists():
        copy_book_config(tmp_path)
        (book / "ch09").mkdir(parents=True)
        shutil.copy(ROOT / "book" / "references.bib", book / "references.bib")
        shutil.copytree(ROOT / "book" / "_static", book / "_static")
        (book / "index.md").write_text("# The book\n")
        (book / "ch09" / "page.md").write_text(PAGE)
        (tmp_path / "_toc.yml").write_text(
            "format: jb-book\nroot: book/index\nchapters:\n  - file: book/ch09/page\n"
        )
        (book / "term.yml").write_text(
            "term: Test\nassignments:\n  - number: 1\n    title: One\n    due: 2026-10-05\n"
            "    release: 2026-10-07\n    sections: [9.1]\n"
        )
        full = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(PLANTED)])
        nbformat.write(full, book / "ch09" / "page.ipynb")
        (book / "student" / "ch09").mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(), book / "student" / "ch09" / "page.ipynb")
    out = tmp_path / f"_build/student-{today}"
    env = dict(os.environ, DLCOURSE_EDITION="student", TODAY=today, OMP_NUM_THREADS="1")
    done = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(tmp_path), "-W", "-n", "--keep-going",
         "--path-output", str(out)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out / "_build" / "html"


@pytest.fixture(scope="module")
def before_release(tmp_path_factory) -> Path:
    return build_edition(tmp_path_factory.mktemp("edition"), "2026-10-06")


def files_with_planted(html: Path, pattern: str) -> list[str]:
    return [str(p.relative_to(html)) for p in html.rglob(pattern)
            if p.is_file() and PLANTED in p.read_text(errors="ignore")]  # fmt: skip


@pytest.mark.slow
def test_student_html_pages_hold_no_solution(before_release):
    assert files_with_planted(before_release, "*.html") == []
    page = (before_release / "book" / "ch09" / "page.html").read_text()
    assert "The solution is released on 2026-10-07" in page


@pytest.mark.slow
def test_student_search_index_holds_no_solution(before_release):
    index = before_release / "searchindex.js"
    assert index.exists() and "twice" in index.read_text()  # the exercise is indexed
    assert PLANTED not in index.read_text()


@pytest.mark.slow
def test_student_sources_and_downloads_hold_no_solution(before_release):
    assert not list((before_release / "_sources").rglob("*.md")), "page sources are copied"
    assert files_with_planted(before_release, "_sources/**/*") == []
    download = before_release / "_sources" / "book" / "ch09" / "page.ipynb"
    assert download.exists() and PLANTED not in download.read_text()


@pytest.mark.slow
def test_student_colab_button_opens_the_student_twin(before_release):
    page = (before_release / "book" / "ch09" / "page.html").read_text()
    assert "blob/main/book/student/ch09/page.ipynb" in page
    assert "blob/main/book/ch09/page.ipynb" not in page
    record = json.loads((before_release / "edition.json").read_text())
    assert record["solutions_removed"] == 1


@pytest.mark.slow
def test_after_the_release_date_the_student_edition_shows_the_solution(before_release):
    after = build_edition(before_release.parents[2], "2026-10-07")
    page = (after / "book" / "ch09" / "page.html").read_text()
    assert PLANTED in page and "blob/main/book/ch09/page.ipynb" in page
    assert json.loads((after / "edition.json").read_text())["solutions_removed"] == 0


def test_planted_twin_helper_really_plants():
    twin = planted_twin()
    assert copy.deepcopy(twin) is not twin and PLANTED in json.dumps(twin)


@pytest.mark.parametrize("page", pages.notebook_pages(), ids=lambda p: p.name)
def test_a_student_twin_runs_as_the_build_ran_its_page(page):
    """No code outside a solution follows a solution's code, so a student twin's code is the
    page's code up to its solutions (plus answer cells, which run unchanged): the build's own
    execution of the page, and `make student-outside`, run exactly what a student runs."""
    twin = nbformat.read(page.with_suffix(".ipynb"), as_version=4)
    code = [c for c in twin.cells if c.cell_type == "code"]
    in_solution = [student.is_solution_cell(c) for c in code]
    first = in_solution.index(True) if True in in_solution else len(code)
    after = [i + 1 for i, hidden in enumerate(in_solution) if i > first and not hidden]
    assert not after, f"{page.name}: code cells {after} follow a solution but are not in one"
    made = nbformat.read(student.student_path(page), as_version=4)
    kept = [c.source for c in made.cells if c.cell_type == "code"
            and "answer" not in c.metadata.get("dlcourse", {})]  # fmt: skip
    assert kept == [c.source for c in code[:first]]
