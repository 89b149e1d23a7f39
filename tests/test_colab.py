"""Tests of code/tools/colab.py: twins are plain notebooks that read well outside the book."""

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "code" / "tools"))
import colab  # noqa: E402

import pages  # noqa: E402

NOTEBOOK_PAGES = pages.notebook_pages()


@pytest.fixture
def ctx():
    return colab.Context(
        site_url="https://example.org/book/",
        raw_url="https://raw.example.org/repo/main/",
        root=ROOT,
        labels={"sec-oo-design": ("book/ch03/oo.html#sec-oo-design", "3.2 OO Design")},
        citations={"zhang2023dive": "Zhang et al., 2023"},
    )


def rewrite(text, ctx, page=ROOT / "book" / "ch03_linear_regression" / "oo_design.md"):
    return colab.rewrite_markdown(text, ctx, page, colab.Rewriter(ctx, page))


def test_references_become_links_to_the_site(ctx):
    out = rewrite("See {ref}`sec-oo-design` and {ref}`the trainer <sec-oo-design>`.", ctx)
    assert out == (
        "See [3.2 OO Design](https://example.org/book/book/ch03/oo.html#sec-oo-design)"
        " and [the trainer](https://example.org/book/book/ch03/oo.html#sec-oo-design)."
    )


def test_citations_become_author_year_links(ctx):
    out = rewrite("As in {cite:p}`zhang2023dive`.", ctx)
    assert out == (
        "As in ([Zhang et al., 2023](https://example.org/book/book/appendix/references.html))."
    )


def test_exercises_are_numbered_and_solutions_headed(ctx):
    page = ROOT / "book" / "x.md"
    rewriter = colab.Rewriter(ctx, page)
    first = colab.rewrite_markdown(
        "```{exercise}\n:label: ex-a\n\nDo A.\n```\n\n```{exercise}\n:label: ex-b\n\nDo B.\n```",
        ctx,
        page,
        rewriter,
    )
    solution = colab.rewrite_markdown(
        "```{solution-start} ex-b\n:class: dropdown\n```\nBecause.\n```{solution-end}\n```",
        ctx,
        page,
        rewriter,
    )
    assert first == "**Exercise 1.** Do A.\n\n**Exercise 2.** Do B."
    assert solution == "### Solution to exercise 2\nBecause."


def test_literalinclude_inlines_the_named_object(ctx):
    out = rewrite(
        "```{literalinclude} ../../code/dlcourse/training.py\n:pyobject: SGD.step\n```", ctx
    )
    assert out.startswith("From `code/dlcourse/training.py`:\n\n```python\n    @torch.no_grad()")
    assert "def step(self) -> None:" in out and out.endswith("```")


def test_admonitions_become_quote_blocks(ctx):
    out = rewrite(":::{note}\nTensors share memory.\n:::", ctx)
    assert out == "> **Note**\n>\n> Tensors share memory."


def test_relative_images_point_at_the_repository(ctx):
    out = rewrite("![a plot](img/plot.png)", ctx)
    assert (
        out
        == "![a plot](https://raw.example.org/repo/main/book/ch03_linear_regression/img/plot.png)"
    )


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_twin_markdown_has_no_myst_only_syntax(page):
    nb = nbformat.read(pages.twin_of(page), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = colab.MYST_ONLY.search(cell.source)
            assert match is None, (
                f"{page.name}: MyST syntax {match.group(0)!r} in the twin; run "
                f"`python code/tools/pages.py refresh {page.relative_to(ROOT)}`"
            )


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_twin_opens_with_the_title_and_a_link_to_the_site(page):
    nb = nbformat.read(pages.twin_of(page), as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "markdown").source
    assert first.startswith("# ")
    url = pages.load_config()["html"]["baseurl"].rstrip("/") + "/"
    assert f"({url}{page.relative_to(ROOT).with_suffix('.html')})" in first
