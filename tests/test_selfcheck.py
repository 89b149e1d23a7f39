"""Tests of dlcourse.selfcheck: every check accepts its answer and rejects a planted wrong one
without showing the answer; every exercise of the book has a check or a rubric; bad input gets
a message, never a traceback; hints come one at a time."""

import contextlib
import io
import math
import re
import sys
from pathlib import Path

import pytest
import torch

import dlcourse
from dlcourse import _selfcheck_data, _selfcheck_refs, selfcheck

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "code" / "tools"))
import selfcheck_source  # noqa: E402  (code/tools/selfcheck_source.py: the plain answers)

ANSWERS = selfcheck_source.ANSWERS
BOOK_LABELS = {}  # label -> page
for page in sorted((ROOT / "book").glob("*/*.md")):
    for label in re.findall(r"```\{exercise\}\n:label: (\S+)", page.read_text()):
        BOOK_LABELS[label] = page.relative_to(ROOT / "book").as_posix()


@pytest.fixture(autouse=True)
def _fresh_hints():
    selfcheck._tries.clear()
    yield
    selfcheck._tries.clear()


def said(label, answer, call=dlcourse.check) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = call(label, answer) if call is dlcourse.check else call(label)
    assert result is None, "a check returns nothing (it could give the answer away)"
    return out.getvalue()


def correct(label):
    spec = ANSWERS[label]
    if spec["kind"] == "function":
        return _selfcheck_refs.REFS[label][0]
    return spec["answer"]


def planted(label):
    """A wrong answer close to the right one: times 1.5, one more, reversed, another option."""
    spec = ANSWERS[label]
    kind, answer = spec["kind"], spec["answer"]
    if kind == "number":
        return answer * 1.5 if abs(answer) * 0.5 > 2 * spec["tol"] else answer + 3 * spec["tol"]
    if kind == "int":
        return answer + 1
    if kind == "shape":
        return answer[::-1] if answer[::-1] != answer else answer + (1,)
    if kind == "tensor":
        return answer * 1.5 + 3 * spec["tol"]
    if kind == "choice":
        return next(o for o in spec["options"] if o != answer)
    reference = _selfcheck_refs.REFS[label][0]

    def off_by_one(*args):
        out = reference(*args)
        return tuple(o + 1 for o in out) if isinstance(out, tuple) else out + 1

    return off_by_one


NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def assert_no_leak(label, text):
    """The expected answer appears nowhere in what a wrong answer printed."""
    spec = ANSWERS[label]
    kind, answer = spec["kind"], spec["answer"]
    body = re.sub(r"Hint \d+ of \d+:", "", text.replace(label, ""))
    tokens = [float(t) for t in NUMBER.findall(body)]
    if kind == "number":
        assert not any(abs(t - answer) <= spec["tol"] for t in tokens), (label, text)
    elif kind == "int":
        assert answer not in tokens, (label, text)
    elif kind == "shape":
        assert str(answer) not in body and str(list(answer)) not in body, (label, text)
    elif kind == "tensor":
        for value in answer.reshape(-1).tolist():
            if abs(value) >= 10 or not float(value).is_integer():
                assert not any(abs(t - value) <= spec["tol"] for t in tokens), (label, text)
    elif kind == "choice":
        assert repr(answer) not in body, (label, text)
    elif not spec["reveal"]:
        assert ", expected " not in body, (label, text)
        returned = body.split("your function", 1)[-1]  # what follows the input shown
        reference, cases = _selfcheck_refs.REFS[label]
        for args in cases():
            shown = _selfcheck_refs._show(reference(*args))
            if not shown.startswith("a tensor of shape"):  # a shape alone reveals no values
                assert shown not in returned, (label, text)


def test_registry_matches_its_source():
    checks, rubrics = selfcheck_source.registry()
    assert checks == _selfcheck_data.CHECKS, "run: .venv/bin/python code/tools/selfcheck_source.py"
    assert rubrics == _selfcheck_data.RUBRICS
    assert set(_selfcheck_refs.REFS) == {k for k, s in ANSWERS.items() if s["kind"] == "function"}


def test_every_exercise_has_a_check_or_a_rubric():
    registered = set(selfcheck.labels())
    assert sorted(set(BOOK_LABELS) - registered) == [], "exercises without a check or rubric"
    assert sorted(registered - set(BOOK_LABELS)) == [], "registered labels not in the book"
    assert not set(_selfcheck_data.CHECKS) & set(_selfcheck_data.RUBRICS)


def test_coverage_of_the_issue():
    pages = {BOOK_LABELS[label] for label in _selfcheck_data.CHECKS}
    assert len(_selfcheck_data.CHECKS) >= 120 and len(pages) >= 40


@pytest.mark.parametrize("label", list(ANSWERS))
def test_check_accepts_its_answer(label):
    assert said(label, correct(label)) == f"{label}: right.\n"


@pytest.mark.parametrize("label", list(ANSWERS))
def test_check_rejects_a_planted_wrong_answer_without_showing_the_answer(label):
    hints = ANSWERS[label]["hints"]
    for i in range(len(hints) + 1):
        text = said(label, planted(label))
        assert text.startswith(f"{label}: not yet"), text
        assert ("No more hints" in text) if i == len(hints) else (hints[i] in text), text
        assert_no_leak(label, text)


def test_number_tolerance_is_the_stated_one():
    label = "ex-synthetic-noise"
    tol, answer = ANSWERS[label]["tol"], ANSWERS[label]["answer"]
    for offset in (-tol, -0.99 * tol, 0.0, 0.5 * tol, tol):  # at the edge of the grid too
        assert said(label, answer + offset).endswith("right.\n")
    assert "not yet" in said(label, answer + 1.3 * tol)
    assert "(within 0.001)" in selfcheck.expects(label)


def test_numpy_values_are_accepted():
    import numpy as np

    assert said("ex-ndarray-broadcast-3d", (np.int64(5), 2, 1, 4)).endswith("right.\n")
    assert said("ex-synthetic-noise", np.float32(0.0101)).endswith("right.\n")
    assert said("ex-oo-validation-average", np.array([0.835, 0.849])).endswith("right.\n")


def test_tensor_checks_shape_and_values():
    label = "ex-oo-validation-average"
    answer = ANSWERS[label]["answer"]
    assert said(label, answer.tolist()).endswith("right.\n")  # a list is fine
    assert said(label, answer + 0.0004).endswith("right.\n")
    assert "shape (1, 2) is not the expected one" in said(label, answer[None])
    assert "not yet" in said(label, answer.flip(0))


@pytest.mark.parametrize(
    "label, answer, expected",
    [
        ("ex-no-such-thing", 1, "no exercise is labelled 'ex-no-such-thing'"),
        ("ex-synthetic-nois", 1, "did you mean 'ex-synthetic-noise'?"),
        (3, 1, "must be an exercise label such as"),
        (
            "ex-ndarray-broadcast-3d",
            "(5, 2, 1, 4)",
            "(2, 1, 4) and (5, 1, 1, 1): a tuple of integers such as (2, 3); got str",
        ),  # fmt: skip
        ("ex-synthetic-noise", math.nan, "ex-synthetic-noise expects the noise level"),
        ("ex-synthetic-noise", "0.01", "got str '0.01'"),
        ("ex-synthetic-noise", torch.ones(3), "not one number"),
        ("ex-synthetic-drop-last", 31.5, "not a whole number"),
        ("ex-numpy-column-sums", [[1.0, math.inf]], "NaN or inf"),
        ("ex-shift-label", [[1, 2], [3]], "got list, which is not numbers"),
        ("ex-synthetic-noise", 10**400, "got int (int too large to convert to float)"),
        ("ex-linear-algebra-manhattan", "l3", "one of 'l1', 'l2' or 'linf'; got 'l3'"),
        ("ex-weight-decay-l1", 0.1, "expects a function l1_grad(w, lambd)"),
        ("ex-synthetic-noise", ..., "ex-synthetic-noise: write your answer first"),
        ("ex-synthetic-disk", 1, 'dlcourse.hint("ex-synthetic-disk")'),
    ],
)
def test_bad_input_gets_a_message_not_a_traceback(label, answer, expected):
    text = said(label, answer)
    assert expected in text and text.count("\n") == 1 and "Traceback" not in text, text
    assert "not yet" not in text  # bad input uses no hint


def test_a_failing_function_shows_its_input_and_output_not_the_expected():
    def raises(w, lambd):
        raise ValueError("oops")

    text = said("ex-weight-decay-l1", raises)
    assert "on input (tensor([ 0.5000, -2.0000, 0.0100]), 0.1)" in text
    assert "raised ValueError: oops" in text and "Traceback" not in text
    text = said("ex-weight-decay-l1", lambda w, lambd: w)
    assert "your function returned tensor([ 0.5000, -2.0000, 0.0100])" in text
    assert "expected" not in text


def test_hints_come_one_at_a_time_and_hint_shows_the_next():
    label = "ex-synthetic-noise"
    hints = ANSWERS[label]["hints"]
    assert hints[0] in said(label, 0.5)
    assert hints[1] in said(label, None, call=dlcourse.hint)
    assert "No more hints" in said(label, 0.5)
    rubric = said("ex-synthetic-disk", None, call=dlcourse.hint)
    assert rubric.startswith("ex-synthetic-disk: a good answer\n  - ")
    assert "no exercise is labelled" in said("ex-nope", None, call=dlcourse.hint)


def test_answer_cells_run_unchanged():
    for label in ("ex-synthetic-noise", "ex-synthetic-disk", "ex-weight-decay-l1"):
        cell = selfcheck.answer_cell(label)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(cell, {"dlcourse": dlcourse})
        assert out.getvalue().count("\n") >= 1 and "right" not in out.getvalue()
    assert selfcheck.answer_cell("ex-synthetic-noise").startswith(
        "answer = ...  # your answer: the noise level estimated from the residuals: a number "
        "(within 0.001)"
    )
    assert selfcheck.answer_cell("ex-synthetic-disk").endswith('dlcourse.hint("ex-synthetic-disk")')
    with pytest.raises(KeyError):
        selfcheck.answer_cell("ex-nope")


def test_the_package_ships_digests_not_answers():
    for label, entry in _selfcheck_data.CHECKS.items():
        assert "answer" not in entry, label
        if entry["kind"] != "function":
            assert re.fullmatch(r"[0-9a-f]{24}", entry["digest"]), label
