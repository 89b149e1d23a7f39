"""Tests of code/tools/benchmark.py: its arithmetic and its turn-taking (never the timings)."""

import sys
from pathlib import Path

import pytest
import torch

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


def test_turns_alternate_and_each_run_draws_what_it_would_draw_alone():
    order, draws = [], {"a": [], "b": []}

    def run(name, seed):
        def epoch():
            order.append(name)
            draws[name].append(torch.rand(3))
            return float(len(draws[name]))

        torch.manual_seed(seed)
        return epoch, torch.get_rng_state()

    alone = {}
    for name, seed in (("a", 1), ("b", 2)):
        benchmark.alternate(3, run(name, seed))
        alone[name], draws[name] = torch.cat(draws[name]), []
    order.clear()
    times = benchmark.alternate(3, run("a", 1), run("b", 2))
    assert order == ["a", "b"] * 3
    assert times == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    assert torch.equal(torch.cat(draws["a"]), alone["a"])
    assert torch.equal(torch.cat(draws["b"]), alone["b"])
    assert not torch.equal(alone["a"], alone["b"])


@pytest.mark.parametrize(
    "make",
    [
        lambda: dlcourse.SoftmaxRegression(lr=0.1),
        lambda: dlcourse.DropoutMLP(num_hiddens_1=16, num_hiddens_2=8, lr=0.1),
    ],
    ids=["softmax", "dropout-mlp"],
)
def test_one_epoch_turns_train_our_model_exactly_as_one_fit_does(make):
    data = dlcourse.FashionMNIST(batch_size=8, num_train=40, num_val=16)
    dlcourse.set_seed(0)
    whole = make()
    dlcourse.Trainer(max_epochs=3, verbose=False, board=False).fit(whole, data)
    dlcourse.set_seed(0)
    turns = make()
    ours = benchmark.our_epoch(turns, data)
    dlcourse.set_seed(7)  # another training takes turns with it and draws its own numbers
    other = benchmark.our_epoch(make(), data)
    times = benchmark.alternate(3, ours, other)
    assert all(len(t) == 3 and min(t) > 0 for t in times)
    for p, q in zip(whole.parameters(), turns.parameters(), strict=True):
        assert torch.equal(p, q)


@pytest.mark.reference
def test_one_epoch_turns_train_a_d2l_model_exactly_as_one_fit_does(d2l):
    torch.manual_seed(0)
    data = d2l.SyntheticRegressionData(
        w=torch.tensor([2.0, -3.4]), b=4.2, num_train=64, num_val=32, batch_size=8
    )

    def make():
        torch.manual_seed(1)
        return d2l.LinearRegressionScratch(num_inputs=2, lr=0.03)

    whole = make()
    with benchmark.quiet():
        d2l.Trainer(max_epochs=3).fit(whole, data)
    turns = make()
    times = benchmark.alternate(3, benchmark.their_epoch(d2l, turns, data))
    assert len(times[0]) == 3 and min(times[0]) > 0
    assert torch.equal(whole.w, turns.w) and torch.equal(whole.b, turns.b)
    assert not torch.equal(turns.w, make().w)  # it trained


def test_ratio_range_is_theirs_over_ours_per_turn():
    assert benchmark.ratio_range([1.0, 2.0, 4.0], [3.0, 5.0, 14.0]) == "per-epoch ratios 2.5-3.5x"
