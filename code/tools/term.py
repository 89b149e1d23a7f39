"""The term file (``book/term.yml``): which sections each assignment holds, when it is due
and when its solutions are released to students.

    python code/tools/term.py check             # validate the file; print the schedule

``load()`` reads and checks the file: a bad date, an unknown section, a section in two
assignments, or a release before its due date is an error that names the line. ``released``
answers the one question the student edition asks of a page: may a student see its
solutions on a given day? A page in no assignment releases on ``release_others`` or, without
it, with the last assignment. ``today()`` is the build's date, or ``TODAY=YYYY-MM-DD``.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TERM_FILE = ROOT / "book" / "term.yml"
SECTION_TITLE = re.compile(r"^# (\d+\.\d+) (.+)$", re.M)


@dataclasses.dataclass(frozen=True)
class Assignment:
    number: int
    title: str
    due: datetime.date
    release: datetime.date
    sections: tuple[str, ...]  # section numbers, e.g. ("2.1", "3.4")


@dataclasses.dataclass(frozen=True)
class Term:
    name: str
    assignments: tuple[Assignment, ...]
    release_others: datetime.date
    pages: dict[str, Path]  # section number -> page

    def assignment_of(self, page: Path) -> Assignment | None:
        for assignment in self.assignments:
            if any(self.pages[s] == page for s in assignment.sections):
                return assignment
        return None

    def release_of(self, page: Path) -> datetime.date:
        assignment = self.assignment_of(page)
        return assignment.release if assignment else self.release_others

    def released(self, page: Path, today: datetime.date) -> bool:
        """Whether students may see the solutions of ``page`` on ``today``."""
        return today >= self.release_of(page)

    def section_of(self, page: Path) -> str | None:
        return next((s for s, p in self.pages.items() if p == page), None)


class TermError(ValueError):
    """A mistake in the term file, with its line."""


class _LineLoader(yaml.SafeLoader):
    """Keeps every mapping's line number, and leaves dates as text (checked here)."""


_LineLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mapping_with_line(loader, node):
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def section_pages(book: Path = ROOT / "book") -> dict[str, Path]:
    """Section number -> page, from the first heading of every page ("# 3.7 Weight Decay")."""
    found = {}
    for page in sorted(book.rglob("*.md")):
        heading = SECTION_TITLE.search(page.read_text())
        if heading:
            found[heading.group(1)] = page
    return found


def _date(value, where: str, what: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise TermError(
            f"{where}: {what} {value!r} is not a date; write it as YYYY-MM-DD"
        ) from None


def load(path: Path = TERM_FILE, pages: dict[str, Path] | None = None) -> Term:
    """Read and check the term file (``pages``: section number -> page; the book's own)."""
    pages = section_pages() if pages is None else pages
    try:
        raw = yaml.load(path.read_text(), Loader=_LineLoader)
    except yaml.YAMLError as error:
        raise TermError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict) or "assignments" not in raw or "term" not in raw:
        raise TermError(f"{path}: needs a `term:` name and a list of `assignments:`")
    assignments, seen = [], {}
    for entry in raw["assignments"] or []:
        where = f"{path.name}, line {entry.get('__line__', '?')}"
        missing = [k for k in ("number", "title", "due", "release", "sections") if k not in entry]
        if missing:
            raise TermError(f"{where}: the assignment has no {', '.join(missing)}")
        due = _date(entry["due"], where, "the due date")
        release = _date(entry["release"], where, "the release date")
        if release < due:
            raise TermError(
                f"{where}: assignment {entry['number']} releases its solutions on {release}, "
                f"before it is due ({due}); release on or after the due date"
            )
        sections = tuple(str(s) for s in entry["sections"])
        for section in sections:
            if section not in pages:
                raise TermError(
                    f"{where}: assignment {entry['number']} names section {section}, which the "
                    f"book does not have (its sections: {', '.join(sorted(pages, key=_key))})"
                )
            if section in seen:
                raise TermError(
                    f"{where}: section {section} is already in assignment {seen[section]}; "
                    "a section belongs to one assignment"
                )
            seen[section] = entry["number"]
        assignments.append(
            Assignment(int(entry["number"]), str(entry["title"]), due, release, sections)
        )
    if not assignments:
        raise TermError(f"{path}: the term has no assignments")
    numbers = [a.number for a in assignments]
    if len(set(numbers)) != len(numbers):
        raise TermError(f"{path}: assignment numbers repeat: {numbers}")
    last = max(a.release for a in assignments)
    others = raw.get("release_others")
    release_others = _date(others, path.name, "release_others") if others else last
    return Term(str(raw["term"]), tuple(assignments), release_others, pages)


def _key(section: str) -> tuple[int, ...]:
    return tuple(int(part) for part in section.split("."))


def today() -> datetime.date:
    """The date a build compares release dates with: ``TODAY=YYYY-MM-DD`` or the real one."""
    value = os.environ.get("TODAY")
    if value:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise TermError(f"TODAY={value!r} is not a date; write it as YYYY-MM-DD") from None
    return datetime.date.today()


def main(argv: list[str]) -> int:
    if argv != ["check"]:
        print(__doc__.strip().splitlines()[2])
        return 2
    term, day = load(), today()
    print(f"{term.name}: {len(term.assignments)} assignments; today is {day}")
    for a in term.assignments:
        state = "released" if day >= a.release else "hidden"
        print(f"  {a.number}. {a.title}: due {a.due}, solutions {state} on {a.release}; "
              f"sections {', '.join(a.sections)}")  # fmt: skip
    print(f"  other sections: solutions on {term.release_others}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
