"""Sphinx extension: the book's two editions, and the Assignments page.

``make book`` builds the full (instructor) edition; ``make book EDITION=student`` builds the
student edition into ``_build/student/html`` from the same jupyter-cache execution (it runs
no page). The edition is the environment variable ``DLCOURSE_EDITION`` (``full`` or
``student``), which the Makefile sets. In the student edition, for every page whose
solutions are not released yet (``book/term.yml``, compared with ``term.today()``):

* each solution is taken out of the page's document right after it is read, before Sphinx
  indexes it for search or collects its images, and a line saying when it will be released
  takes its place: so neither the HTML nor ``searchindex.js`` holds solution text;
* the page's source is not copied (``html_copy_source = False``: no ``_sources/*.md``), and
  its ``.ipynb`` download is the student twin (``code/tools/student.py``);
* its Colab button opens the student twin instead of the full twin.

Pages whose solutions are released show them, and their download and Colab button are the
full twin's. ``_build/student/html/edition.json`` records what the build did: the pages it
rendered, how many it executed (0 when the cache is complete) and the solutions it removed.

In both editions the Assignments page's table (the line ``<!-- assignments -->`` in
``book/assignments.md``) is written from the term file.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from docutils import nodes

sys.path.insert(0, str(Path(__file__).parent))
import term as term_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EDITIONS = ("full", "student")
MARKER = "<!-- assignments -->"
STATE: dict = {}  # this build's edition, term, date and counts (set when the config is read)


def edition() -> str:
    value = os.environ.get("DLCOURSE_EDITION", "full")
    if value not in EDITIONS:
        raise ValueError(f"DLCOURSE_EDITION={value!r} must be one of {EDITIONS}")
    return value


def _page(app, docname: str) -> Path:
    return Path(app.env.doc2path(docname))


def _hidden(app, docname: str) -> bool:
    """Whether the student edition must hide this page's solutions today."""
    state = STATE
    if state["term"] is None:
        return False
    return not state["term"].released(_page(app, docname), state["today"])


def configure(app, config) -> None:
    STATE.update(edition=edition(), removed=0, started=time.time(), downloads=set())
    # A book without a term file (a test's small book) has one edition's worth of pages.
    has_term = term_file.TERM_FILE.exists() or STATE["edition"] == "student"
    STATE.update(term=term_file.load() if has_term else None, today=term_file.today())
    if STATE["edition"] == "student":
        config.html_copy_source = False
        config.html_show_sourcelink = False
        # the full build's executions: a student build renders them and executes nothing
        config.nb_execution_cache_path = str(ROOT / "_build" / ".jupyter_cache")


def remove_solutions(app, doctree) -> None:
    """Replace each solution by a note of its release date (student edition, unreleased)."""
    state = STATE
    if state["edition"] != "student" or not _hidden(app, app.env.docname):
        return
    from sphinx_exercise.nodes import solution_node

    release = state["term"].release_of(_page(app, app.env.docname))
    for solution in list(doctree.findall(solution_node)):
        note = nodes.paragraph(
            "", "", nodes.emphasis("", f"The solution is released on {release:%Y-%m-%d}.")
        )
        note["classes"].append("solution-release-note")
        solution.replace_self(note)
        state["removed"] += 1


def student_buttons(app, pagename, templatename, context, doctree) -> None:
    """Student edition: the Colab button of an unreleased page opens its student twin, and
    the download menu offers the notebook a student may read instead of the page source."""
    state = STATE
    if state["edition"] != "student" or pagename not in app.env.found_docs:
        return
    has_twin = (ROOT / pagename).with_suffix(".ipynb").exists()
    full, student = f"/{pagename}.ipynb", "/" + student_twin_path(pagename)
    hidden = _hidden(app, pagename)
    download = f"{context['pathto']('_sources', 1)}/{pagename}.ipynb"

    def rewrite(buttons):
        kept = []
        for button in buttons:
            url = button.get("url", "")
            if hidden and "colab" in url:
                button["url"] = url.replace(full, student)
            if button.get("label") == "download-source-button":  # no sources are copied
                if not has_twin:
                    continue
                button.update(url=download, text=".ipynb", label="download-notebook-button")
                state["downloads"].add(pagename)
            if button.get("label") == "download-notebook-button" and has_twin:
                button["url"] = download
                state["downloads"].add(pagename)
            if "buttons" in button:  # a group
                button["buttons"] = rewrite(button["buttons"])
            kept.append(button)
        return kept

    context["header_buttons"] = rewrite(context.get("header_buttons", []))


def student_twin_path(pagename: str) -> str:
    """book/ch03_x/page -> book/student/ch03_x/page.ipynb (see student.student_path)."""
    return "book/student/" + pagename.removeprefix("book/") + ".ipynb"


def assignments_table(app, docname, source) -> None:
    """Write the Assignments page's table from the term file."""
    if MARKER not in source[0]:
        return
    state = STATE
    config = app.config
    repo = config.html_theme_options.get("repository_url", "").removeprefix("https://github.com/")
    branch = config.html_theme_options.get("repository_branch", "main")
    rows = [
        "| Assignment | Sections | Due | Solutions | Notebook |",
        "| --- | --- | --- | --- | --- |",
    ]
    for a in state["term"].assignments:
        sections = ", ".join(
            f"{{doc}}`{s} </{state['term'].pages[s].relative_to(ROOT).with_suffix('')}>`"
            for s in a.sections
        )
        colab = (
            f"https://colab.research.google.com/github/{repo}/blob/{branch}/"
            f"book/assignments/assignment-{a.number}.ipynb"
        )
        shown = "released" if state["today"] >= a.release else "from"
        rows.append(
            f"| {a.number}. {a.title} | {sections} | {a.due:%Y-%m-%d} | {shown} "
            f"{a.release:%Y-%m-%d} | [Open in Colab]({colab}) |"
        )
    table = "\n".join(rows)
    source[0] = source[0].replace(MARKER, f"*{state['term'].name}*\n\n{table}")


def finish(app, exception) -> None:
    """Student edition: downloads are student twins; record what the build did."""
    state = STATE
    if exception is not None or state["edition"] != "student" or app.builder.name != "html":
        return
    from myst_nb.sphinx_ import NbMetadataCollector

    outdir = Path(app.outdir)
    rendered = executed = 0
    for docname in sorted(app.env.found_docs):
        data = NbMetadataCollector.get_exec_data(app.env, docname)
        if data:
            rendered += 1
            executed += data.get("mtime", 0) >= state["started"]
    offered = {f"{docname}.ipynb" for docname in state["downloads"]}
    for stray in (outdir / "_sources").rglob("*.ipynb"):  # the theme's copies of executions
        if str(stray.relative_to(outdir / "_sources")) not in offered:
            stray.unlink()
    for docname in sorted(state["downloads"]):  # the notebook each download button offers
        source = (ROOT / docname).with_suffix(".ipynb")
        if _hidden(app, docname):
            source = ROOT / student_twin_path(docname)
        if not source.exists():
            raise FileNotFoundError(
                f"{source.relative_to(ROOT)} is missing: the student edition offers it for "
                "download; write it with `python code/tools/student.py twins`"
            )
        download = outdir / "_sources" / f"{docname}.ipynb"
        download.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, download)
    record = {
        "edition": "student",
        "today": state["today"].isoformat(),
        "pages_rendered": rendered,
        "pages_executed": executed,
        "solutions_removed": state["removed"],
    }
    (outdir / "edition.json").write_text(json.dumps(record, indent=1) + "\n")
    print(
        f"student edition ({state['today']}): rendered {rendered} pages from the cached "
        f"executions, executed {executed}; removed {state['removed']} unreleased solutions"
    )


def setup(app):
    app.connect("config-inited", configure)
    app.connect("source-read", assignments_table)
    # before Sphinx's collectors (images, search terms) and sphinx-exercise's registry
    app.connect("doctree-read", remove_solutions, priority=100)
    app.connect("html-page-context", student_buttons, priority=600)
    app.connect("build-finished", finish)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
