"""Fixtures for the tests of the built website (run after `make book`)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
sys.path.insert(0, str(ROOT / "code" / "tools"))


@pytest.fixture(scope="session")
def html_root() -> Path:
    if not (HTML / "book" / "index.html").exists():
        pytest.fail(f"no built site in {HTML}: run `make book` first", pytrace=False)
    return HTML
