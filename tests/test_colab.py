"""Tests of code/tools/colab.py: twins are plain notebooks that read well outside the book."""

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.formatters import format_display_data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "code" / "tools"))
import colab  # noqa: E402
import nbval_replay  # noqa: E402

import pages  # noqa: E402

NOTEBOOK_PAGES = pages.notebook_pages()
PAGE = ROOT / "book" / "ch03_linear_regression" / "oo_design.md"
SITE = "https://example.org/book/"


@pytest.fixture
def ctx():
    return colab.Context(
        site_url=SITE,
        raw_url="https://raw.example.org/repo/main/",
        root=ROOT,
        labels={"sec-oo-design": ("book/ch03/oo.html#sec-oo-design", "3.2 OO Design")},
        citations={"zhang2023dive": ("Zhang et al.", "2023")},
    )


def rewrite(text, ctx, page=PAGE, glue=None):
    return colab.Converter(ctx, page, glue).convert(text)


def notebook(*cells):
    """A notebook of ("md", source) and ("code", source[, outputs]) cells."""
    nb = nbformat.v4.new_notebook()
    for kind, source, *outputs in cells:
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            cell = nbformat.v4.new_code_cell(source, outputs=outputs[0] if outputs else [])
            nb.cells.append(cell)
    return nb


def glue_output(name, value):
    """The output that myst-nb's glue(name, value, display=False) makes (dlcourse.glue)."""
    bundle, metadata = format_display_data(value)
    prefix = "application/papermill.record/"
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    return nbformat.v4.new_output(
        "display_data", data={prefix + k: v for k, v in bundle.items()}, metadata=metadata
    )


# -- inline syntax --------------------------------------------------------------------


def test_references_become_links_to_the_site(ctx):
    out = rewrite("See {ref}`sec-oo-design` and {ref}`the trainer <sec-oo-design>`.", ctx)
    assert out == (
        f"See [3.2 OO Design]({SITE}book/ch03/oo.html#sec-oo-design)"
        f" and [the trainer]({SITE}book/ch03/oo.html#sec-oo-design)."
    )


def test_a_reference_to_an_unknown_label_is_an_error(ctx):
    with pytest.raises(ValueError, match=r"oo_design.md: \{ref\}`sec-nowhere` names no label"):
        rewrite("See {ref}`sec-nowhere`.", ctx)


def test_doc_links_take_the_title_of_the_page(ctx):
    out = rewrite("See {doc}`../how_to_use`.", ctx)
    title = next(line for line in (ROOT / "book/how_to_use.md").read_text().splitlines()
                 if line.startswith("# "))[2:]  # fmt: skip
    assert out == f"See [{title}]({SITE}book/how_to_use.html)."


def test_exercise_labels_are_collected_with_their_number_on_their_page(tmp_path):
    page = tmp_path / "book" / "p.md"
    page.parent.mkdir()
    page.write_text(
        "(sec-p)=\n# 1.1 A page\n\n```{exercise}\n:label: ex-one\n\nA.\n```\n\n"
        "```{exercise}\n:label: ex-two\n\nB.\n```\n"
    )
    labels = colab.collect_labels([page], tmp_path)
    assert labels == {
        "sec-p": ("book/p.html#sec-p", "1.1 A page"),
        "ex-one": ("book/p.html#ex-one", "Exercise 1"),
        "ex-two": ("book/p.html#ex-two", "Exercise 2"),
    }


def test_citations_are_author_year_links_from_the_bibliography(ctx, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(
        '@book{one, author = {M{\\"u}ller, Anna}, title = {T}, year = {2001}}\n'
        "@article{two, author = {Ioffe, Sergey and Szegedy, Christian}, title = {T},"
        " year = {2015}}\n"
        "@article{many, author = {Zhang, Aston and Lipton, Zachary C. and Li, Mu},"
        " title = {T}, year = 2023}\n"
        "@misc{others, author = {Paszke, Adam and others}, title = {T}, year = {2019}}\n"
    )
    ctx.citations = colab.collect_citations(bib)
    assert ctx.citations == {
        "one": ("Müller", "2001"),
        "two": ("Ioffe and Szegedy", "2015"),
        "many": ("Zhang et al.", "2023"),
        "others": ("Paszke et al.", "2019"),
    }
    refs = f"{SITE}book/appendix/references.html"
    assert rewrite("As in {cite:p}`two, many`.", ctx) == (
        f"As in ([Ioffe and Szegedy, 2015; Zhang et al., 2023]({refs}))."
    )
    assert rewrite("{cite:t}`one` showed.", ctx) == f"[Müller (2001)]({refs}) showed."
    with pytest.raises(ValueError, match="citation key 'nobody' is not in the bibliography"):
        rewrite("{cite:p}`nobody`", ctx)


def test_everything_but_myst_stays_byte_for_byte(ctx):
    text = (
        "Some *emphasis*,  two spaces, a [link](https://x.org) and `code {ref}`x``.\n\n"
        "| a | b |\n|---|:-:|\n| $x^2$ | `y` |\n\n"
        "$$\n\\sum_i x_i\n$$\n\n"
        "```python\n(sec-not-a-label)=\n{ref}`not-a-role`\n\n\n\nx = 1\n```\n\n"
        "1. one\n   * nested\n\n> quoted\n> text"
    )
    assert rewrite(text, ctx) == text


def test_roles_inside_tables_lists_and_headings_are_converted(ctx):
    text = (
        "## In {ref}`sec-oo-design`\n\n- see {ref}`sec-oo-design`\n\n"
        "| {cite:p}`zhang2023dive` |\n|-|"
    )
    out = rewrite(text, ctx)
    assert colab.leftover_myst(ctx.md, out) == []
    assert out.count(f"]({SITE}") == 3


def test_labels_and_comments_are_dropped(ctx):
    text = "(sec-a)=\n# Title\n\n% a comment for authors\nText."
    assert rewrite(text, ctx) == "# Title\n\nText."


def test_literalinclude_inlines_the_named_object(ctx):
    out = rewrite(
        "```{literalinclude} ../../code/dlcourse/training.py\n:pyobject: SGD.step\n```", ctx
    )
    assert out.startswith("From `code/dlcourse/training.py`:\n\n```python\n    @torch.no_grad()")
    assert "def step(self) -> None:" in out and out.endswith("```")
    with pytest.raises(ValueError, match="has no 'SGD.nothing'"):
        rewrite(
            "```{literalinclude} ../../code/dlcourse/training.py\n:pyobject: SGD.nothing\n```",
            ctx,
        )


def test_admonitions_become_quote_blocks(ctx):
    out = rewrite(":::{note}\nTensors share {ref}`memory <sec-oo-design>`.\n:::", ctx)
    assert out == (
        f"> **Note**\n>\n> Tensors share [memory]({SITE}book/ch03/oo.html#sec-oo-design)."
    )


def test_unknown_directives_and_roles_are_errors(ctx):
    with pytest.raises(ValueError, match=r"directive \{mystery\} has no plain-Markdown form"):
        rewrite("```{mystery}\nx\n```", ctx)
    with pytest.raises(ValueError, match=r"role \{mystery\} has no plain-Markdown form"):
        rewrite("a {mystery}`x` b", ctx)


def test_relative_images_point_at_the_repository(ctx):
    out = rewrite("![a plot](img/plot.png) and ![web](https://x.org/a.png)", ctx)
    assert out == (
        "![a plot](https://raw.example.org/repo/main/book/ch03_linear_regression/img/plot.png)"
        " and ![web](https://x.org/a.png)"
    )


# -- exercises and folded solutions ---------------------------------------------------


def exercise_notebook(after="### Next"):
    return notebook(
        ("md", "# Page\n\n## Exercises\n\n```{exercise}\n:label: ex-a\n\nDo A.\n```\n\n"
               "```{exercise}\n:label: ex-b\n\nDo B, unlike {ref}`ex-a`.\n```\n\n## Solutions\n\n"
               "```{solution-start} ex-b\n:class: dropdown\n```\n\nBecause."),
        ("code", "print('b')"),
        ("md", "So.\n\n```{solution-end}\n```\n\n```{solution-start} ex-a\n:class: dropdown\n"
               "```\nA it is.\n\n```{solution-end}\n```\n\n" + after),
        ("code", "print('next')"),
    )  # fmt: skip


def test_exercises_are_numbered_within_the_page_and_solutions_folded(ctx):
    nb = colab.colabify(exercise_notebook(), ctx, ROOT / "book" / "page.md")
    sources = [c.source for c in nb.cells]
    assert sources[0].startswith("# Page\n\n*A page of the COSE474 course book.")
    exercises = "**Exercise 1.** Do A.\n\n**Exercise 2.** Do B, unlike [Exercise 1]("
    assert f"{exercises}{SITE}book/page.html#ex-a)." in sources[0]
    assert sources[0].endswith("## Solutions")
    heading_b, heading_a = nb.cells[1], nb.cells[5]
    assert heading_b.source.startswith("### Solution to Exercise 2\n\n*Folded")
    assert heading_a.source.startswith("### Solution to Exercise 1\n\n*Folded")
    assert "click the arrow ▸ left of this heading" in heading_a.source
    assert sources[2:5] == ["Because.", "print('b')", "So."]
    assert sources[6:] == ["A it is.", "### Next", "print('next')"]
    assert nb.metadata["colab"]["collapsed_sections"] == [heading_b.id, heading_a.id]
    for heading in (heading_b, heading_a):
        assert heading.metadata == {
            "id": heading.id,
            "heading_collapsed": True,
            "jp-MarkdownHeadingCollapsed": True,
        }
    hidden = [c.metadata.get("hidden", False) for c in nb.cells]
    assert hidden == [False, False, True, True, True, False, True, False, False]
    nbformat.validate(nb)


def test_a_solution_heading_is_one_level_below_its_section(ctx):
    nb = exercise_notebook()
    nb.cells[0].source = nb.cells[0].source.replace("## Solutions", "#### Solutions")
    nb = colab.colabify(nb, ctx, ROOT / "book" / "page.md")
    assert nb.cells[1].source.startswith("##### Solution to Exercise 2")


@pytest.mark.parametrize("after", ["Unheaded text.", "#### Too deep"])
def test_text_after_a_solution_needs_a_heading_of_its_own(ctx, after):
    with pytest.raises(ValueError, match="page.md: after the solution to exercise 1"):
        colab.colabify(exercise_notebook(after), ctx, ROOT / "book" / "page.md")


def test_code_after_a_solution_needs_a_heading_of_its_own(ctx):
    nb = exercise_notebook("")
    with pytest.raises(ValueError, match="the page goes on without a heading of level 3"):
        colab.colabify(nb, ctx, ROOT / "book" / "page.md")


def test_a_solution_to_an_exercise_not_on_the_page_is_an_error(ctx):
    nb = notebook(("md", "## S\n\n```{solution-start} ex-x\n```\nA.\n```{solution-end}\n```"))
    with pytest.raises(ValueError, match="solution-start names 'ex-x', which no exercise"):
        colab.colabify(nb, ctx, ROOT / "book" / "page.md")


# -- glue ------------------------------------------------------------------------------


def glue_notebook():
    return notebook(
        ("md", "# Glue\n\nAccuracy {glue:text}`acc:.3f`, or {glue}`acc`, "
               "{glue:}`n` images, {glue:text}`n:,` in all, {glue:text}`name`."),
        ("code", "acc = dlcourse.glue('acc', 0.87654)", [glue_output("acc", 0.87654)]),
        ("code", "print(n)", [nbformat.v4.new_output("stream", text="12000\n"),
                              glue_output("n", 12000), glue_output("name", "LeNet")]),
    )  # fmt: skip


def test_glued_values_are_written_in_as_myst_nb_formats_them(ctx):
    nb = colab.colabify(glue_notebook(), ctx, ROOT / "book" / "page.md")
    assert nb.cells[0].source.endswith(
        "Accuracy 0.877, or 0.87654, 12000 images, 12,000 in all, LeNet."
    )


def test_glue_records_leave_the_code_cells_and_stay_in_the_metadata(ctx):
    nb = colab.colabify(glue_notebook(), ctx, ROOT / "book" / "page.md")
    assert nb.cells[1].outputs == []
    assert [o.output_type for o in nb.cells[2].outputs] == ["stream"]
    assert nb.metadata["dlcourse"]["glue"]["n"] == {"text/plain": "12000"}
    # A refresh converts the page's markdown again with the twin's outputs, which no longer
    # hold the glue records: the values come from the metadata.
    again = glue_notebook()
    for cell, kept in zip(again.cells, nb.cells):
        cell.outputs = kept.get("outputs", [])
    again.metadata = nb.metadata
    assert (
        colab.colabify(again, ctx, ROOT / "book" / "page.md")
        .cells[0]
        .source.endswith("12,000 in all, LeNet.")
    )


def test_a_glue_reference_without_a_value_is_an_error_naming_page_and_name(ctx):
    nb = glue_notebook()
    nb.cells[0].source += " Also {glue:text}`loss:.2f`."
    with pytest.raises(ValueError, match=r"page.md: glue reference 'loss' has no value"):
        colab.colabify(nb, ctx, ROOT / "book" / "page.md")


def test_replay_ignores_the_builds_glue_records():
    cell = glue_notebook().cells[2]
    assert [o.output_type for o in nbval_replay.without_glue(cell)] == ["stream"]


@pytest.mark.slow
@pytest.mark.parametrize("switch", ["1", "0"])
def test_dlcourse_glue_records_only_when_switched_on(tmp_path, switch):
    """Executed for real: dlcourse.glue makes the record that colab.py reads, and
    DLCOURSE_GLUE=0 (make nbval, as in Colab) makes none."""
    from nbclient import NotebookClient

    nb = notebook(
        ("md", "The value is {glue:text}`page_value:.2f`."),
        ("code", "import dlcourse\n_ = dlcourse.glue('page_value', 2 / 3)"),
    )
    env = dict(os.environ, DLCOURSE_GLUE=switch, PYDEVD_DISABLE_FILE_VALIDATION="1")
    old = os.environ.copy()
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    records = [o for o in nb.cells[1].outputs if "scrapbook" in o.get("metadata", {})]
    assert len(records) == (1 if switch == "1" else 0)
    if switch == "1":
        ctx = colab.Context(site_url=SITE, raw_url=SITE, root=ROOT)
        out = colab.colabify(nb, ctx, ROOT / "book" / "page.md")
        assert out.cells[0].source.startswith("The value is 0.67.\n")
        assert out.cells[1].outputs == []


def test_make_nbval_runs_without_glue_records():
    recipe = subprocess.run(
        ["make", "-n", "nbval", "PAGES=book/x.md", "STAMP=Makefile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    line = next(line for line in recipe.splitlines() if "--nbval " in line)
    assert line.startswith("DLCOURSE_GLUE=0 ")


# -- every page ------------------------------------------------------------------------


class AnyGlue(dict):
    """Glued values for a conversion without an execution: every name has one."""

    def __contains__(self, name):
        return True

    def __getitem__(self, name):
        return {"text/plain": "0.5"}


@pytest.fixture(scope="module")
def book_ctx():
    return pages.colab_context()


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_page_converts_to_plain_markdown_with_links(page, book_ctx, monkeypatch):
    nb = pages.read_page(page)
    monkeypatch.setattr(colab, "glue_values", lambda nb: AnyGlue())
    colab.colabify(nb, book_ctx, page)
    markdown = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert colab.leftover_myst(book_ctx.md, markdown) == []
    assert not re.search(r"\{glue|^\([\w-]+\)=\s*$|^:::", markdown, re.M)
    source = page.read_text()
    for label in re.findall(r"\{(?:ref|numref)\}`(?:[^`<]*<)?([\w-]+)>?`", source):
        assert f"]({book_ctx.site_url}{book_ctx.labels[label][0]})" in markdown, label
    cites = len(re.findall(r"\{cite:[pt]\}`", source))
    assert markdown.count(f"]({book_ctx.site_url}book/appendix/references.html)") >= cites
    exercises = len(re.findall(r"^```\{exercise\}", source, re.M))
    numbers = re.findall(r"^\*\*Exercise (\d+)\.\*\*", markdown, re.M)
    assert numbers == [str(n) for n in range(1, exercises + 1)]


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_twin_markdown_has_no_myst_only_syntax(page, book_ctx):
    nb = nbformat.read(pages.twin_of(page), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = colab.leftover_myst(book_ctx.md, cell.source)
            assert not found, (
                f"{page.name}: MyST syntax {found} in the twin; run "
                f"`python code/tools/pages.py refresh {page.relative_to(ROOT)}`"
            )


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_twin_folds_every_solution(page):
    nb = nbformat.read(pages.twin_of(page), as_version=4)
    headings = [c.id for c in nb.cells if re.match(r"#+ Solution to Exercise \d+\n", c.source)]
    solutions = len(re.findall(r"^```\{solution-start\}", page.read_text(), re.M))
    assert len(headings) == solutions, f"regenerate {page.name}'s twin (`make notebooks`)"
    assert nb.metadata.get("colab", {}).get("collapsed_sections", []) == headings


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_twin_opens_with_the_title_and_a_link_to_the_site(page):
    nb = nbformat.read(pages.twin_of(page), as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "markdown").source
    assert first.startswith("# ")
    url = pages.load_config()["html"]["baseurl"].rstrip("/") + "/"
    assert f"({url}{page.relative_to(ROOT).with_suffix('.html')})" in first
