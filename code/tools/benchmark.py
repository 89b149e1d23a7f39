"""Benchmark: dlcourse against d2l 1.0.3, side by side, in one run on one machine.

    python code/tools/benchmark.py [--epochs 10] [--only loader,softmax,mlp,dropout,lenet]

(a) one shuffled epoch of Fashion-MNIST minibatches (batch 256): dlcourse's in-memory
    loader vs d2l's FashionMNIST data module with its default DataLoader;
(b) training with each library's Trainer, the same model, hyperparameters and epochs:
    softmax regression (batch 256, lr 0.1), a 784-256-10 MLP (batch 256, lr 0.1) and the
    784-256-256-10 dropout MLP (p = 0.5, 0.5; batch 256, lr 0.1);
(c) LeNet with the textbook's recipe (batch 128, lr 0.1) on the CPU; on a processor with
    native bf16 arithmetic, also with the Trainer's opt-in ``amp="bf16"`` (not the default).
It prints seconds, the ratio, and both validation accuracies, which one function computes
for both models over all 10,000 validation images.

The two libraries (and LeNet's opt-in bf16 run) take turns, one epoch each (one pass of
the loader in (a)), so that all meet the same slow and fast moments of a shared machine; on
the two-core machine that builds the book, one model's epoch time moved by 40% and more
within minutes. Each row shows the median seconds per epoch of each library, and the note
gives the range of the per-epoch ratios. A library's turn restores its own state of
PyTorch's global random generator (``alternate``), and plain SGD keeps nothing between
epochs, so ten one-epoch fits train exactly as one ten-epoch fit would: taking turns
changes no accuracy.

Each training row also shows how close each library comes to the machine's limit: the fp32
matrix-multiply peak is measured in the same run (the best of several 2048 x 2048 products,
at the start and again before every training row; each row divides by the best seen so far,
since a busy moment only ever lowers a measurement), the work per training example is
three times the forward pass's FLOP (counted by ``torch.utils.flop_counter``; the backward
pass costs about twice the forward, the convention of "model FLOPs utilisation"), and an
epoch's work is that times the training examples plus one forward pass per validation
example. So a slower machine's numbers can still be compared: the shares of its own peak.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # d2l draws its progress board on every few batches

import torch
from torch import nn

import dlcourse
from dlcourse import data as dldata
from dlcourse.tensors import device_name
from dlcourse.training import forward_flop_per_example


def d2l_data_root() -> Path:
    """A folder laid out as torchvision expects, with the decompressed files, so that d2l
    (which calls torchvision with download=True) finds the data and never downloads."""
    root = Path(tempfile.mkdtemp(prefix="d2l-bench-"))
    raw = root / "data" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for images, labels, _ in dldata.FASHION_MNIST_FILES.values():
        for name in (images, labels):
            source = dldata.locate_fashion_mnist(name)
            opener = gzip.open if source.suffix == ".gz" else open
            with opener(source, "rb") as src, open(raw / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
    (root / "work").mkdir()
    return root


@contextlib.contextmanager
def quiet():
    """Hide d2l's output: in a script its progress board prints a figure repr per update."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def alternate(turns: int, *runs) -> list[list[float]]:
    """Take ``turns`` turns at each of ``runs`` and return each run's list of seconds.

    A run is a pair ``(epoch, rng_state)``: ``epoch()`` trains one epoch (or does one
    timed job) and returns its seconds; ``rng_state`` is PyTorch's global random state
    when the run was made (``our_epoch`` and ``their_epoch`` save it, right after the
    model was seeded and built). Each turn restores its run's state and saves it again
    afterwards, so a run's draws (shuffling, dropout masks) are the ones it would make alone.
    """
    states = [state for _, state in runs]
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(turns):
        for i, (epoch, _) in enumerate(runs):
            torch.set_rng_state(states[i])
            times[i].append(epoch())
            states[i] = torch.get_rng_state()
    return times


def ratio_range(ours: list[float], theirs: list[float]) -> str:
    """The range of the per-turn ratios, d2l's seconds over dlcourse's."""
    ratios = [t / o for o, t in zip(ours, theirs)]
    return f"per-epoch ratios {min(ratios):.1f}-{max(ratios):.1f}x"


def our_epoch(model: nn.Module, data, **options):
    """A run for ``alternate``: one epoch of dlcourse's Trainer per call, returning the
    epoch's own seconds (the Trainer's timing: training and validation, not the fit's
    set-up). Make it right after seeding and building ``model``."""
    trainer = dlcourse.Trainer(max_epochs=1, verbose=False, board=False, **options)

    def epoch() -> float:
        trainer.fit(model, data)
        return trainer.history.last["seconds"]

    return epoch, torch.get_rng_state()


def their_epoch(d2l, model: nn.Module, data):
    """A run for ``alternate``: one epoch of d2l's Trainer per call (its ``fit_epoch``
    timed: training and validation, like ours), with its output hidden."""
    trainer = d2l.Trainer(max_epochs=1)  # num_gpus=0: the CPU
    fit_epoch = trainer.fit_epoch
    timed: list[float] = []
    trainer.fit_epoch = lambda: timed.append(seconds(fit_epoch))

    def epoch() -> float:
        with quiet():
            trainer.fit(model, data)
        return timed[-1]

    return epoch, torch.get_rng_state()


@torch.no_grad()
def val_accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of all validation images classified correctly (one count per example)."""
    model.eval()
    correct = sum(
        (model(X[i : i + 1000]).argmax(dim=1) == y[i : i + 1000]).sum().item()
        for i in range(0, len(X), 1000)
    )
    return correct / len(X)


def d2l_mlp(d2l, lr: float):
    """The textbook's concise MLP (section 5.2), which d2l 1.0.3 does not export."""

    class MLP(d2l.Classifier):
        def __init__(self):
            super().__init__()
            self.lr = lr
            self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))

    return MLP()


def d2l_dropout_mlp(d2l, lr: float, dropout_1: float, dropout_2: float):
    """The textbook's concise dropout MLP 784-256-256-10 (section 5.6)."""

    class DropoutMLP(d2l.Classifier):
        def __init__(self):
            super().__init__()
            self.lr = lr
            self.net = nn.Sequential(
                nn.Flatten(),
                nn.LazyLinear(256),
                nn.ReLU(),
                nn.Dropout(dropout_1),
                nn.LazyLinear(256),
                nn.ReLU(),
                nn.Dropout(dropout_2),
                nn.LazyLinear(10),
            )

    return DropoutMLP()


def matmul_peak(size: int = 2048, repeats: int = 5) -> float:
    """The machine's fp32 matrix-multiply rate in GFLOP/s: the best of ``repeats`` timed
    products of two ``size`` x ``size`` matrices (after one untimed warm-up)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = min(seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def epoch_work(model: nn.Module, data, peak: float) -> dict:
    """What ``row`` needs for its rate columns: the FLOP per training example (3x the
    forward pass), the GFLOP of one epoch (that per training example, 1x the forward pass
    per validation example) and the peak to divide by."""
    forward = forward_flop_per_example(model, data.val_dataloader())
    gflop = (3 * forward * len(data.train_images) + forward * len(data.val_images)) / 1e9
    return {"flop": 3 * forward, "gflop": gflop, "peak": peak}


HEADER = (
    f"{'':<44}{'dlcourse':>10}{'d2l 1.0.3':>11}{'ratio':>7}{'FLOP/ex':>9}"
    f"{'dlcourse GFLOP/s':>19}{'d2l GFLOP/s':>15}   validation accuracy"
)


def row(name: str, ours: float, theirs: float, work: dict | None = None, note: str = "") -> str:
    """One line of the table; ``work`` holds the epoch's GFLOP, the FLOP per training
    example and the measured peak, for the GFLOP/s and share-of-peak columns."""
    line = f"{name:<44}{ours:>8.3f} s{theirs:>9.3f} s{theirs / ours:>6.1f}x"
    if work is None:
        return f"{line}{'-':>9}{'-':>19}{'-':>15}   {note}"
    rates = [work["gflop"] / t for t in (ours, theirs)]
    shares = [f"{rate:.1f} ({rate / work['peak']:.0%})" for rate in rates]
    flop = f"{work['flop'] / 1e6:>7.2f} M"
    return f"{line}{flop}{shares[0]:>19}{shares[1]:>15}   {note} [peak {work['peak']:.0f}]"


def bench_lenet(d2l, epochs: int, X_val: torch.Tensor, y_val: torch.Tensor, peak: float) -> None:
    """(c) LeNet with the textbook's recipe (sigmoid, average pooling, Xavier, lr 0.1,
    batch 128), trained by each library's Trainer on the CPU; seconds per epoch."""
    cpu = torch.device("cpu")
    ours_data = dlcourse.FashionMNIST(batch_size=128)
    with quiet():
        theirs_data = d2l.FashionMNIST(batch_size=128)
    dlcourse.set_seed(0)
    ours = dlcourse.LeNet(lr=0.1)  # Xavier-initialised in its constructor
    runs = [our_epoch(ours, ours_data, device=cpu)]
    dlcourse.set_seed(0)
    theirs = d2l.LeNet(lr=0.1)
    with quiet():  # d2l's own recipe: one batch materialises the lazy layers, then Xavier
        theirs.apply_init([next(iter(theirs_data.get_dataloader(True)))[0]], d2l.init_cnn)
    runs.append(their_epoch(d2l, theirs, theirs_data))
    bf16 = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    if bf16:
        # Not the default on a CPU (the book trains in float32 there): what the Trainer's
        # opt-in bf16 autocast gives on a processor that computes bf16 natively.
        dlcourse.set_seed(0)
        ours_bf16 = dlcourse.LeNet(lr=0.1)
        runs.append(our_epoch(ours_bf16, ours_data, device=cpu, amp="bf16"))
    times = alternate(epochs, *runs)
    t_ours, t_theirs = statistics.median(times[0]), statistics.median(times[1])
    acc_ours = val_accuracy(ours.cpu(), X_val, y_val)
    acc_theirs = val_accuracy(theirs.cpu(), X_val, y_val)
    work = epoch_work(ours, ours_data, peak)
    note = f"{acc_ours:.4f} vs {acc_theirs:.4f} after {epochs} epochs; {ratio_range(*times[:2])}"
    print(row("(c) LeNet (textbook), per epoch", t_ours, t_theirs, work, note), flush=True)
    if bf16:
        acc = val_accuracy(ours_bf16.cpu(), X_val, y_val)
        note = f"{acc:.4f} (bf16; share of the fp32 peak); {ratio_range(times[2], times[1])}"
        name = "(c) LeNet, Trainer(amp='bf16'), opt-in"
        print(row(name, statistics.median(times[2]), t_theirs, work, note), flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--only", default="loader,softmax,mlp,dropout,lenet")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))

    import d2l.torch as d2l

    root = d2l_data_root()
    here = Path.cwd()
    os.chdir(root / "work")  # d2l's data modules look in ../data
    try:
        compare(d2l, args.epochs, parts)
    finally:  # also after an error or Ctrl-C: back to the caller's folder, no temporary data
        os.chdir(here)
        shutil.rmtree(root, ignore_errors=True)
    return 0


def compare(d2l, epochs: int, parts: set[str]) -> None:
    """Print the comparison rows of ``parts`` (run inside d2l's working folder)."""
    peak = matmul_peak()
    print(
        f"machine: {device_name()}, torch {torch.__version__}, "
        f"threads {torch.get_num_threads()}, device {dlcourse.try_gpu()}\n"
        f"fp32 matmul peak at the start: {peak:.1f} GFLOP/s (best of 5 products of two "
        "2048x2048 matrices); each row's share is of the best peak measured up to that row\n"
    )
    print(HEADER)

    dlcourse.set_seed(0)
    ours_data = dlcourse.FashionMNIST(batch_size=256)
    with quiet():
        theirs_data = d2l.FashionMNIST(batch_size=256)
    X_val = ours_data.val_images.float() / 255
    y_val = ours_data.val_labels

    if "loader" in parts:

        def one_epoch(data):
            return lambda: seconds(lambda: sum(len(y) for _, y in data.train_dataloader()))

        one_epoch(ours_data)()  # warm-up
        state = torch.get_rng_state()
        times = alternate(3, (one_epoch(ours_data), state), (one_epoch(theirs_data), state))
        medians = [statistics.median(t) for t in times]
        print(row("(a) one epoch of minibatches", *medians, note="median of 3"), flush=True)

    models = {
        "softmax": (
            "softmax regression",
            lambda: dlcourse.SoftmaxRegression(lr=0.1),
            lambda: d2l.SoftmaxRegression(num_outputs=10, lr=0.1),
        ),
        "mlp": (
            "MLP 784-256-10",
            lambda: dlcourse.MLP(num_hiddens=256, lr=0.1),
            lambda: d2l_mlp(d2l, 0.1),
        ),
        "dropout": (
            "dropout MLP 784-256-256-10",
            lambda: dlcourse.DropoutMLP(dropout_1=0.5, dropout_2=0.5, lr=0.1),
            lambda: d2l_dropout_mlp(d2l, 0.1, 0.5, 0.5),
        ),
    }
    for key, (name, make_ours, make_theirs) in models.items():
        if key not in parts:
            continue
        dlcourse.set_seed(0)
        ours_model = make_ours()
        ours = our_epoch(ours_model, ours_data)
        dlcourse.set_seed(0)
        theirs_model = make_theirs()
        times = alternate(epochs, ours, their_epoch(d2l, theirs_model, theirs_data))
        acc_ours = val_accuracy(ours_model.cpu(), X_val, y_val)
        acc_theirs = val_accuracy(theirs_model.cpu(), X_val, y_val)
        peak = max(peak, matmul_peak())
        work = epoch_work(ours_model, ours_data, peak)
        note = f"{acc_ours:.4f} vs {acc_theirs:.4f} after {epochs} epochs; {ratio_range(*times)}"
        medians = [statistics.median(t) for t in times]
        print(row(f"(b) {name}, per epoch", *medians, work, note), flush=True)
    if "lenet" in parts:
        peak = max(peak, matmul_peak())
        bench_lenet(d2l, epochs, X_val, y_val, peak)
    end_peak = matmul_peak()
    print(
        f"\nfp32 matmul peak at the end: {end_peak:.1f} GFLOP/s (best before: {peak:.1f}); "
        "a large difference means the machine was busy with something else"
    )


if __name__ == "__main__":
    sys.exit(main())
