"""The student side of the notebooks: student twins and assignment notebooks.

    python code/tools/student.py twins [PAGE ...]     # book/student/... from the twins
    python code/tools/student.py assignments          # _build/assignments, book/assignments

A *student twin* (``book/student/<chapter>/<page>.ipynb``) is a page's twin with every
solution taken out (its folded heading and the cells under it, and the glued values that
only solutions quote), an answer cell after each exercise (the self-check where the
exercise has one), and, where the solutions were, the date they will be released
(``book/term.yml``). ``pages.py`` writes it whenever it writes the twin, so the two stay in
step; the student edition's Colab button opens it until the page's solutions are released,
and the full twin after that.

An *assignment notebook* holds, for each of its sections in the term file's order: the
section's number and title with a link to the page, its code cells (no outputs), a
"Discussion and takeaways" cell, and its exercises with their answer cells. Its first cells
install the package and check the runtime, as a twin's do. It is made from the student
twins, so it holds no solution either. ``make assignments`` writes them to
``_build/assignments/`` and to ``book/assignments/``, the committed copies that the
Assignments page's Colab buttons open.
"""

from __future__ import annotations

import copy
import os
import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).parent))
import colab  # noqa: E402
import term as term_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
STUDENT = ROOT / "book" / "student"
ASSIGNMENTS = ROOT / "book" / "assignments"
BUILD_ASSIGNMENTS = ROOT / "_build" / "assignments"
EXERCISE = re.compile(r"^\*\*Exercise (\d+)\.\*\*", re.M)
HEADING = re.compile(r"^#{1,6} ", re.M)


def student_path(page: Path) -> Path:
    """Where the student twin of ``page`` lives: book/student/<chapter>/<page>.ipynb (under
    the ``book`` folder that holds the page, so a copy of the book keeps its own)."""
    book = next((p for p in page.parents if p.name == "book"), ROOT / "book")
    student = STUDENT if book == ROOT / "book" else book / "student"
    return student / page.parent.relative_to(book) / (page.stem + ".ipynb")


def answer_cell(label: str, number: int) -> str:
    """The code cell after an exercise: the package's self-check cell where it has one."""
    try:
        from dlcourse import selfcheck
    except ImportError:  # a package without self-checks: an empty answer cell
        selfcheck = None
    if selfcheck is not None and label in selfcheck.labels():
        return selfcheck.answer_cell(label)
    return f"# Your answer to Exercise {number}\n"


def exercise_labels(page: Path) -> list[str]:
    """The labels of the page's exercises, in order (as the twin numbers them)."""
    import pages

    extensions = tuple(pages.load_config().get("parse", {}).get("myst_enable_extensions", []))
    return colab.exercise_labels(colab.myst_parser(extensions), page.read_text())


def is_generated(cell) -> bool:
    """The install cell, environment check and last-executed line that every page opens with."""
    import pages

    return cell.cell_type == "code" and cell.source.startswith(
        (pages.INSTALL_MARKER, *pages.GENERATED)
    )


def is_solution_cell(cell) -> bool:
    return colab.is_solution_heading(cell) or bool(cell.metadata.get("hidden"))


def release_note(release, assignment) -> str:
    which = f"with assignment {assignment.number}'s" if assignment else "with the last assignment's"
    return (
        f"*The worked solutions of this page appear in the student edition from "
        f"{release.day} {release:%B %Y}, {which}. Until then, answer each exercise in the "
        "cell after it.*"
    )


def split_exercises(cell, labels: list[str], note: str) -> list:
    """A markdown cell as it is, or, if it holds exercises, one cell per exercise with an
    answer cell after each; a "Solutions" heading after them gets the release note."""
    found = list(EXERCISE.finditer(cell.source))
    if not found:
        return [cell]
    text, cells = cell.source, []
    head = text[: found[0].start()].rstrip()
    if head:
        cells.append(nbformat.v4.new_markdown_cell(head))
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        body = text[match.start() : end]
        tail = ""
        heading = HEADING.search(body)
        if heading:
            body, tail = body[: heading.start()], body[heading.start() :]
        number = int(match.group(1))
        label = labels[number - 1] if number <= len(labels) else ""
        exercise = nbformat.v4.new_markdown_cell(body.rstrip())
        exercise.metadata["dlcourse"] = {"exercise": label}
        answer = nbformat.v4.new_code_cell(answer_cell(label, number))
        answer.metadata["dlcourse"] = {"answer": label}
        cells.append(exercise)
        if "text cell above" in answer.source:  # a written answer, with a rubric to compare
            written = nbformat.v4.new_markdown_cell(f"*Your answer to Exercise {number}:* ...")
            written.metadata["dlcourse"] = {"answer": label}
            cells.append(written)
        cells.append(answer)
        if tail.strip():
            if tail.lstrip().startswith("## Solutions"):
                tail = f"## Solutions\n\n{note}"
            cells.append(nbformat.v4.new_markdown_cell(tail.strip()))
    return cells


def student_twin(twin, page: Path, term: term_file.Term):
    """The student twin of ``page`` from its (full) twin ``twin``."""
    nb = copy.deepcopy(twin)
    labels = exercise_labels(page)
    release = term.release_of(page)
    note = release_note(release, term.assignment_of(page))
    cells = []
    for cell in nb.cells:
        if is_solution_cell(cell):
            continue
        cells += split_exercises(cell, labels, note) if cell.cell_type == "markdown" else [cell]
    nb.cells = cells
    nb.metadata.pop("dlcourse", None)  # glued values: some only solutions quote
    nb.metadata.get("colab", {}).pop("collapsed_sections", None)
    for number, cell in enumerate(nb.cells):  # ids of their own, stable between writes
        cell.id = f"s{number}"
    return nb


def write_student_twin(page: Path, twin=None, term: term_file.Term | None = None) -> Path:
    twin = twin if twin is not None else nbformat.read(page.with_suffix(".ipynb"), as_version=4)
    path = student_path(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(student_twin(twin, page, term or term_file.load()), path)
    return path


# -- assignments -------------------------------------------------------------------------------
def assignment_notebook(term: term_file.Term, number: int, site_url: str):
    import pages

    assignment = next((a for a in term.assignments if a.number == number), None)
    if assignment is None:
        known = [a.number for a in term.assignments]
        raise ValueError(f"the term has no assignment {number} (it has {known})")
    section_pages = [term.pages[s] for s in assignment.sections]
    requirements = sorted({r for p in section_pages for r in pages.page_requirements(p)})
    trains = any(pages.trains(p) for p in section_pages)
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md(
            f"# Assignment {number}: {assignment.title}\n\n"
            f"*{term.name}, due {assignment.due.day} {assignment.due:%B %Y}.* Work through "
            "the sections below in order: run each section's code, write what you learned "
            "under *Discussion and takeaways*, and answer its exercises in the cells after "
            "them (a self-check tells you whether an answer is right and gives hints, never "
            "the answer). Each heading links to the section in the book; run the cells "
            "from the top."
        ),
        code(pages.install_cell_source(requirements=requirements)),
        code(
            "# Environment check: versions, device and profile of this run.\n"
            f"import dlcourse\n\ndlcourse.check_environment(trains={trains})"
        ),
    ]
    for section, page in zip(assignment.sections, section_pages):
        twin = nbformat.read(student_path(page), as_version=4)
        title = term_file.SECTION_TITLE.search(page.read_text()).group(2)
        url = site_url + str(page.relative_to(ROOT).with_suffix(".html"))
        cells.append(md(f"## {section} {title}\n\n[Read section {section} in the book]({url})"))
        body = [cell for cell in twin.cells if not is_generated(cell)]
        for cell in body:
            if cell.cell_type == "code" and "answer" not in cell.metadata.get("dlcourse", {}):
                fresh = code(cell.source)
                tags = cell.metadata.get("tags", [])
                if "raises-exception" in tags:
                    fresh.metadata["tags"] = ["raises-exception"]  # an error shown on purpose
                cells.append(fresh)
        cells.append(md(f"### {section} Discussion and takeaways\n\n*Your notes here.*"))
        cells.append(md(f"### {section} Exercises"))
        for cell in body:
            meta = cell.metadata.get("dlcourse", {})
            if "exercise" in meta:
                cells.append(md(cell.source))
            elif "answer" in meta:
                cells.append(code(cell.source) if cell.cell_type == "code" else md(cell.source))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata.update(
        kernelspec={"display_name": "Python 3", "language": "python", "name": "python3"},
        language_info={"name": "python"},
        colab={"name": f"assignment-{number}.ipynb"},
    )
    if trains:
        nb.metadata["accelerator"] = "GPU"
        nb.metadata["colab"]["gpuType"] = "T4"
    for position, cell in enumerate(nb.cells):
        cell.id = f"a{number}-{position}"
    return nb


def write_assignments(term: term_file.Term | None = None) -> list[Path]:
    import pages

    term = term or term_file.load()
    site_url = pages.load_config()["html"]["baseurl"].rstrip("/") + "/"
    written = []
    for folder in (BUILD_ASSIGNMENTS, ASSIGNMENTS):
        folder.mkdir(parents=True, exist_ok=True)
    for assignment in term.assignments:
        nb = assignment_notebook(term, assignment.number, site_url)
        for folder in (BUILD_ASSIGNMENTS, ASSIGNMENTS):
            path = folder / f"assignment-{assignment.number}.ipynb"
            nbformat.write(nb, path)
        code = sum(c.cell_type == "code" for c in nb.cells)
        print(f"assignment {assignment.number}: {len(assignment.sections)} sections, "
              f"{len(nb.cells)} cells ({code} code) -> {os.path.relpath(path, ROOT)}")  # fmt: skip
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    import pages

    if argv[:1] == ["twins"]:
        todo = [Path(p).resolve() for p in argv[1:]] or pages.notebook_pages()
        term = term_file.load()
        for page in todo:
            write_student_twin(page, term=term)
        print(f"wrote {len(todo)} student twin(s) under {STUDENT.relative_to(ROOT)}")
        return 0
    if argv == ["assignments"]:
        write_assignments()
        return 0
    print(__doc__.strip().splitlines()[2])
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
