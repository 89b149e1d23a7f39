"""Tests of code/dlcourse/profile.py."""

import pytest

from dlcourse import profile


def test_quick_profile_scales_down(monkeypatch):
    monkeypatch.setenv("DLCOURSE_PROFILE", "quick")
    assert profile.name() == "quick"
    assert profile.epochs(10) == 2
    assert profile.epochs(10, quick=3) == 3
    assert profile.epochs(1) == 1
    assert profile.examples(60000) == 12000
    assert profile.examples(500) == 500  # never more than the full size
    assert profile.image_size(224, quick=64) == 64
    assert "quick" in profile.summary()


def test_full_profile_keeps_textbook_settings(monkeypatch):
    monkeypatch.setenv("DLCOURSE_PROFILE", "full")
    assert profile.epochs(10, quick=3) == 10
    assert profile.examples(60000) == 60000
    assert profile.image_size(224, quick=64) == 224
    assert "full" in profile.summary()


def test_default_follows_the_hardware(monkeypatch):
    monkeypatch.delenv("DLCOURSE_PROFILE")
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert profile.name() == "quick"
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    assert profile.name() == "full"


def test_unknown_profile_lists_the_allowed_ones(monkeypatch):
    monkeypatch.setenv("DLCOURSE_PROFILE", "turbo")
    with pytest.raises(ValueError, match=r"'turbo' is not a profile; use one of full, quick"):
        profile.epochs(10)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_sizes_must_be_positive_integers(bad):
    error = ValueError if bad in (0, -3) and not isinstance(bad, bool) else TypeError
    with pytest.raises(error, match=f"full must be a positive integer, got .*{bad!r}"):
        profile.epochs(bad)


def test_expect_picks_the_bound_of_the_profile(monkeypatch):
    monkeypatch.setenv("DLCOURSE_PROFILE", "full")
    assert profile.expect(full=0.8, quick=0.7) == 0.8
    monkeypatch.setenv("DLCOURSE_PROFILE", "quick")
    assert profile.expect(full=0.8, quick=0.7) == 0.7


def test_smoke_batches_only_in_the_smoke_profile(monkeypatch):
    monkeypatch.delenv("DLCOURSE_SMOKE_BATCHES", raising=False)
    monkeypatch.setenv("DLCOURSE_PROFILE", "quick")
    assert profile.smoke_batches() is None
    monkeypatch.setenv("DLCOURSE_PROFILE", "smoke")
    assert profile.smoke_batches() == profile.SMOKE_BATCHES
    monkeypatch.setenv("DLCOURSE_SMOKE_BATCHES", "1")
    assert profile.smoke_batches() == 1


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_smoke_batches_must_be_a_positive_integer(monkeypatch, bad):
    monkeypatch.setenv("DLCOURSE_PROFILE", "smoke")
    monkeypatch.setenv("DLCOURSE_SMOKE_BATCHES", bad)
    with pytest.raises(ValueError, match=rf"DLCOURSE_SMOKE_BATCHES='{bad}'.*positive integer"):
        profile.smoke_batches()
