"""Shared fixtures. Tests run on the CPU, quickly, with matplotlib drawing off-screen."""

import os

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt

os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


@pytest.fixture(autouse=True)
def _seed_and_profile(monkeypatch):
    """Every test starts from the same random state, in the quick profile, with no figures."""
    torch.manual_seed(0)
    monkeypatch.setenv("DLCOURSE_PROFILE", "quick")
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def d2l():
    """d2l 1.0.3, the reference implementation (installed by `make setup` with --no-deps)."""
    import d2l.torch as d2l_torch

    return d2l_torch
