"""Tests of code/tools/prose_numbers.py: outputs typed into prose by hand are caught."""

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "code" / "tools"))
import prose_numbers  # noqa: E402  (code/tools/prose_numbers.py)

import pages  # noqa: E402  (code/tools/pages.py)

PAGE = """\
---
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# 3.4 A synthetic page

```{{code-cell}} ipython3
lr = 0.1
acc = train(lr)
print(f"validation accuracy {{acc:.4f}}, {{n:,}} parameters")
```

{prose}
"""


def make_page(
    tmp_path: Path, prose: str, printed: str = "validation accuracy 0.8412, 61,706 parameters\n"
):
    """A page with one code cell and its executed twin, whose cell printed ``printed``."""
    page = tmp_path / "page.md"
    page.write_text(PAGE.format(prose=prose))
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(pages.read_page(page).cells[0].source)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    glue = nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": "0.8412"}
    )
    cell.outputs.append(glue)
    nb.cells = [nbformat.v4.new_markdown_cell("# 3.4 A synthetic page"), cell]
    nbformat.write(nb, page.with_suffix(".ipynb"))
    return page


def flagged(page: Path) -> list[str]:
    return [f.prose.text for f in prose_numbers.check_page(page)]


def test_a_hand_typed_copy_of_an_output_is_flagged(tmp_path):
    page = make_page(tmp_path, "The network reaches 0.84 on the validation set.")
    flags = prose_numbers.check_page(page)
    assert [f.prose.text for f in flags] == ["0.84"]
    assert str(flags[0]) == (f"{page}:16: 0.84 in prose equals output 0.8412 of cell 1 (line 10)")
    problems = prose_numbers.check([page], tmp_path / "no_allow_list.txt")
    assert problems == [str(flags[0])]


@pytest.mark.parametrize(
    "prose",
    [
        "It reaches 84.1%.",  # a percentage of a fraction printed
        "It has 61,706 parameters.",  # a parameter count with a separator
        "It has 61706 parameters.",
        "It reaches about 0.85 (close: within 2%).",
        "After a\nline break the accuracy is\n0.841 here.",
        "A table:\n\n| run | accuracy |\n|---|---|\n| ours | 0.84 |",
    ],
)
def test_other_forms_of_the_same_number_are_flagged(tmp_path, prose):
    assert len(flagged(make_page(tmp_path, prose))) == 1


def test_the_line_of_a_number_after_line_breaks(tmp_path):
    page = make_page(tmp_path, "First line,\nsecond line with `code`\nand then 0.841 here.")
    assert [f.prose.line for f in prose_numbers.check_page(page)] == [18]


@pytest.mark.parametrize(
    "prose",
    [
        "The network reaches {glue:text}`page_acc:.2f` on the validation set.",
        "The learning rate is 0.1 as set in the code.",  # a setting written in the code
        "In code: `acc = 0.84`; in math: $0.84$; a [link](https://x.org/0.84).",
        "(label-0-84)=\nSee Section 0.84, 2.5.1 and the year 1984, with 3 layers.",
        "The textbook reports 0.62 and 72,000 and 4096 and 60,000.",  # far, a power of two, round
        "It reaches 0.8 of the way.",  # one digit: rounding alone would span 0.75 to 0.85
        "Versions before 0.84 print it differently.",
    ],
)
def test_what_is_not_a_hand_typed_output(tmp_path, prose):
    assert flagged(make_page(tmp_path, prose)) == []


def test_images_and_glue_records_are_not_outputs(tmp_path):
    page = make_page(tmp_path, "It reaches 0.84.", printed="done\n")
    assert flagged(page) == []


def test_prose_in_directives_is_read_and_their_options_are_not(tmp_path):
    prose = "```{note}\n:class: dropdown\n:name: 0.84\n\nIt reaches 0.84.\n```"
    page = make_page(tmp_path, prose)
    assert [(f.prose.text, f.prose.line) for f in prose_numbers.check_page(page)] == [("0.84", 20)]


def test_the_allow_list_excuses_a_deliberate_number_and_reports_stale_entries(tmp_path):
    page = make_page(tmp_path, "The textbook's figure is 0.84, as it happens.")
    allow = tmp_path / "allow.txt"
    allow.write_text(f"# comment\n{prose_numbers.rel(page)}: 0.84: the textbook's figure\n")
    assert prose_numbers.check([page], allow) == []
    page.write_text(PAGE.format(prose="The textbook's figure is 0.62."))
    assert prose_numbers.check([page], allow) == [
        f"allow.txt: {prose_numbers.rel(page)}: 0.84: is no longer typed on the page; "
        "remove the entry"
    ]


def test_an_allow_list_entry_for_a_missing_page_is_named(tmp_path):
    allow = tmp_path / "allow.txt"
    allow.write_text("ch07_cnn/lenet.md: 0.84: a reason\n")
    assert prose_numbers.check([], allow) == [
        "allow.txt: ch07_cnn/lenet.md: no such page (write it as book/<chapter>/<name>.md)"
    ]


def test_a_malformed_allow_list_line_is_named(tmp_path):
    allow = tmp_path / "allow.txt"
    allow.write_text("book/x.md 0.84 no colons\n")
    with pytest.raises(ValueError, match="allow.txt:1: .* is not 'page: number: reason'"):
        prose_numbers.read_allow(allow)


def test_a_page_without_twin_is_named(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(PAGE.format(prose="0.84"))
    with pytest.raises(FileNotFoundError, match="page.md has no executed twin page.ipynb"):
        prose_numbers.check_page(page)


@pytest.mark.parametrize("page", pages.notebook_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_types_an_output_into_its_prose(page):
    problems = prose_numbers.check([page])
    assert not problems, (
        "numbers in the prose copy the page's outputs; insert them with dlcourse.glue and "
        "{glue:text}, or list a deliberate one in code/tools/prose_numbers_allow.txt:\n"
        + "\n".join(problems)
    )
