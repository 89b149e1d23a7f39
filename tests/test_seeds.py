"""One seed per page: a page that calls ``set_seed`` twice with the same seed and draws
random data from the global generator in between replays those draws after the second call
(into a model's initial weights, say: section 3.7 once printed a norm that rested on it)."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "code" / "tools"))
import pages  # noqa: E402

SEED = re.compile(r"dlcourse\.set_seed\((\w+)\)")
# draws from the global generator (a call that passes generator= has its own)
GLOBAL_DRAW = re.compile(r"\b(?:torch\.(?:randn|rand|randint|normal|randperm)|np\.random\.\w+)\(")


def replayed_draws(code: str) -> list[str]:
    """Data drawn at a cell's top level between two set_seed calls with the same seed."""
    found, last_seed, draws = [], None, []
    for line in code.splitlines():
        statement = line.split("#")[0]
        seed = SEED.search(statement)
        if seed:
            if seed.group(1) == last_seed and draws:
                found += [f"set_seed({last_seed}) again after: {d.strip()}" for d in draws]
            last_seed, draws = seed.group(1), []
            continue
        top_level = not line[:1].isspace()  # a def's or class's body draws when called
        if top_level and GLOBAL_DRAW.search(statement) and "generator=" not in statement:
            draws.append(line)
    return found


def page_code(page: Path) -> str:
    return "\n".join(pages.code_cells(pages.read_page(page)))


def test_the_check_catches_a_replayed_draw():
    code = "dlcourse.set_seed(0)\nX = torch.randn(20, 200)\ndlcourse.set_seed(0)\nw = 1"
    assert replayed_draws(code) == ["set_seed(0) again after: X = torch.randn(20, 200)"]
    own = "dlcourse.set_seed(0)\nX = torch.randn(20, generator=g)\ndlcourse.set_seed(0)"
    assert replayed_draws(own) == []


@pytest.mark.parametrize("page", pages.notebook_pages(), ids=lambda p: p.name)
def test_no_page_replays_its_random_data(page):
    assert not replayed_draws(page_code(page)), (
        f"{page.name}: {replayed_draws(page_code(page))}; draw data from a generator of its "
        "own (torch.Generator, or the data set's) or seed once"
    )
