"""Tests of code/tools/benchmark.py's arithmetic (the timings themselves are never tested)."""

import sys
from pathlib import Path

import pytest

import dlcourse
from dlcourse.training import forward_flop_per_example

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "code" / "tools"))
import benchmark  # noqa: E402  (the maintainer tools)


def test_forward_flop_of_lenet_is_the_hand_count():
    data = dlcourse.FashionMNIST(batch_size=8, num_train=16, num_val=8)
    conv1 = 2 * (6 * 28 * 28) * (1 * 5 * 5)  # a multiply-add per output and kernel weight
    conv2 = 2 * (16 * 10 * 10) * (6 * 5 * 5)
    dense = 2 * (400 * 120 + 120 * 84 + 84 * 10)
    counted = forward_flop_per_example(dlcourse.LeNet(), data.val_dataloader())
    assert counted == conv1 + conv2 + dense == 833_040


def test_an_epoch_counts_three_forward_passes_per_training_example_and_one_per_validation():
    data = dlcourse.FashionMNIST(batch_size=8, num_train=40, num_val=24)
    model = dlcourse.SoftmaxRegression(lr=0.1)
    forward = 2 * 784 * 10
    work = benchmark.epoch_work(model, data, peak=100.0)
    assert work["flop"] == 3 * forward and work["peak"] == 100.0
    assert work["gflop"] == pytest.approx((3 * 40 + 24) * forward / 1e9)


def test_a_row_shows_the_ratio_the_rates_and_the_shares_of_the_peak():
    line = benchmark.row("x", 2.0, 10.0, {"gflop": 10.0, "flop": 3e6, "peak": 10.0}, "note")
    assert "5.0x" in line and "3.00 M" in line
    assert "5.0 (50%)" in line and "1.0 (10%)" in line and line.endswith("note [peak 10]")
    assert benchmark.row("loader", 1.0, 2.0).count("-") == 3  # no FLOP for a loader
