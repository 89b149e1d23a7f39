"""Mechanical checks of claims on the pages that reviewers found wrong once.

* A printed "epoch N" next to a best (or worst) value must come from the same index as that
  value: printing ``max(accs)`` together with an epoch computed by another rule (early
  stopping's choice, say) shows a value and an epoch that do not belong together.
* A citation that the role already puts in parentheses (``{cite:p}``) must not stand inside
  another pair of parentheses: it renders as "((Author, year))".
"""

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "code" / "tools"))
import pages  # noqa: E402  (code/tools/pages.py)

NOTEBOOK_PAGES = pages.notebook_pages()
ALL_PAGES = sorted((ROOT / "book").rglob("*.md"))


# -- "(epoch N)" and its value --------------------------------------------------------------


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _aggregated(node: ast.AST):
    """The sequence a value is picked from, and the names that say which element it is.

    ``max(xs)``, ``min(xs)``, ``xs.max()`` pick by value: the epoch must mention ``xs``.
    ``xs[i]`` with a computed index picks by position: the epoch must mention ``i`` (or
    ``xs``). Anything else (a constant index such as ``xs[-1]``, a plain name) is not checked.
    """
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("max", "min") and len(node.args) == 1:
            return _names(node.args[0]), _names(node.args[0])
        if isinstance(func, ast.Attribute) and func.attr in ("max", "min") and not node.args:
            return _names(func.value), _names(func.value)
    if isinstance(node, ast.Subscript):
        index_names = _names(node.slice)
        if index_names:
            return _names(node.value), index_names | _names(node.value)
    return None


def _pieces(node: ast.AST):
    """The literal text and formatted values of an f-string, in order (nested calls aside)."""
    for part in node.values:
        if isinstance(part, ast.Constant):
            yield str(part.value), None
        elif isinstance(part, ast.FormattedValue):
            yield None, part.value


def mismatched_epochs(source: str) -> list[str]:
    """Print calls whose "epoch {E}" cannot be the epoch of a best value {V} they also print."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # cell magics and the like: nothing to check
        return []
    problems = []
    for call in ast.walk(tree):
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "print"
        ):
            continue
        epochs, values = [], []
        for arg in call.args:
            if not isinstance(arg, ast.JoinedStr):
                continue
            text = ""
            for literal, value in _pieces(arg):
                if literal is not None:
                    text += literal
                    continue
                if re.search(r"epoch\s*$", text, flags=re.IGNORECASE):
                    epochs.append(_names(value))
                else:
                    picked = _aggregated(value)
                    if picked is not None:
                        values.append((ast.unparse(value), picked[1]))
                text += "{}"
        if not epochs:
            continue
        for shown, allowed in values:
            if not any(epoch & allowed for epoch in epochs):
                problems.append(
                    f"{ast.unparse(call)[:120]}: no printed epoch comes from the index of {shown}"
                )
    return problems


def test_mismatched_epoch_is_caught():
    """The slip of 5.5's exercise once: the best value over all epochs, early stopping's epoch."""
    bad = (
        "clean_stop, clean_best = early_stopping(clean_val, patience)\n"
        'print(f"best validation accuracy {max(clean_val):.3f} (epoch {clean_best}), "\n'
        '      f"last {clean_val[-1]:.3f}")\n'
    )
    assert mismatched_epochs(bad)
    good = (
        "best = max(range(len(accs)), key=accs.__getitem__)\n"
        'print(f"best {accs[best]:.3f} (epoch {best + 1}), last {accs[-1]:.3f}")\n'
        'print(f"best {max(accs):.3f}, in epoch {accs.index(max(accs)) + 1}")\n'
    )
    assert not mismatched_epochs(good)


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_printed_epoch_belongs_to_its_value(page):
    problems = [
        p for source in pages.code_cells(pages.read_page(page)) for p in mismatched_epochs(source)
    ]
    assert not problems, f"{page.name}:\n" + "\n".join(problems)


# -- citations in double parentheses --------------------------------------------------------

FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", flags=re.MULTILINE | re.DOTALL)
PARENTHESISED_ROLE = re.compile(r"\{cite:(?:p|ps|alp)\}`[^`]*`")
OTHER_ROLE = re.compile(r"\{[a-z:]+\}`[^`]*`")
CODE_SPAN = re.compile(r"`[^`]*`")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$", flags=re.DOTALL)


def citations_in_parentheses(text: str) -> list[str]:
    """Parenthesised citation roles that stand inside parentheses of the prose."""
    text = FENCE.sub("", text)  # code cells, directives and their contents
    text = PARENTHESISED_ROLE.sub("\0", text)
    text = OTHER_ROLE.sub("R", text)
    text = CODE_SPAN.sub("C", text)
    text = MATH.sub("M", text)
    found = []
    for paragraph in re.split(r"\n\s*\n", text):
        depth = 0
        for i, char in enumerate(paragraph):
            if char == "(":
                depth += 1
            elif char == ")":
                depth = max(0, depth - 1)
            elif char == "\0" and depth > 0:
                found.append(" ".join(paragraph[max(0, i - 60) : i + 20].split()))
    return found


def test_citation_in_parentheses_is_caught():
    assert citations_in_parentheses("by batch normalization ({cite:p}`ioffe2015batch`), then")
    assert citations_in_parentheses("(as shown by {cite:p}`he2016deep` for ResNet)")
    assert not citations_in_parentheses("ResNet {cite:p}`he2016deep` (the winner)")
    assert not citations_in_parentheses("as {cite:t}`he2016deep` showed (in 2016)")
    assert not citations_in_parentheses("$f(x)$ is smooth {cite:p}`a`, and (b) holds")


@pytest.mark.parametrize("page", ALL_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_citation_in_double_parentheses(page):
    found = citations_in_parentheses(page.read_text(encoding="utf-8"))
    assert not found, (
        f"{page.name}: {{cite:p}} already adds parentheses; write it outside "
        "them or use {cite:t}:\n" + "\n".join(found)
    )
