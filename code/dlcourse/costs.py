"""What running a page costs, from the book's own measurements (shown near the top of every
page that trains, on the site and in Colab, so a reader can pick a runtime first).

The records are CSV files shipped inside the package (``dlcourse/records/``), so a notebook
opened anywhere can read them:

* ``execution_times.csv``: seconds per page and profile, recorded by every book build
  (``code/tools/execution.py report --record``) and by ``make notebooks``;
* ``smoke.csv``: the smoke profile's measurements at full size on a CPU (seconds per
  minibatch, peak memory) and the projected duration of the full profile
  (``code/tools/smoke.py``);
* ``gpu_runs.csv``: the full profile measured on a GPU (``code/tools/gpu_run.py``).

Until a GPU run is recorded for a page, its GPU time is a projection: the floating-point
operations of its full profile (counted by the smoke run on the ``meta`` device) divided by
an assumed sustained throughput, plus a fixed cost per minibatch (``GPU_ASSUMPTIONS``,
whose reasons the status page prints beside a check against measured runs).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

RECORDS = Path(__file__).parent / "records"
EXECUTION_TIMES = RECORDS / "execution_times.csv"
SMOKE = RECORDS / "smoke.csv"
GPU_RUNS = RECORDS / "gpu_runs.csv"

EXECUTION_FIELDS = ["page", "profile", "device", "seconds", "date"]
SMOKE_FIELDS = [
    "page", "fits", "seconds_per_batch", "peak_memory_mb", "projected_full_seconds",
    "full_flop", "full_batches", "device", "date",
]  # fmt: skip
GPU_FIELDS = [
    "page",
    "model",
    "examples_per_sec",
    "seconds_per_epoch",
    "peak_memory_mb",
    "val_acc",
    "reference",
    "seconds",
    "device",
    "torch",
    "date",
    "status",
]  # fmt: skip (status: "ok", or why the page failed or was skipped: never a measurement)


def read(path: Path) -> list[dict]:
    """The rows of a record (an empty list when it does not exist yet)."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def write(path: Path, fields: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: tuple(str(r[k]) for k in fields[:2])))


def update_execution_times(rows: list[dict]) -> None:
    """Replace the recorded (page, profile) times by ``rows``; keep the others."""
    new = {(r["page"], r["profile"]) for r in rows}
    kept = [r for r in read(EXECUTION_TIMES) if (r["page"], r["profile"]) not in new]
    write(EXECUTION_TIMES, EXECUTION_FIELDS, kept + rows)


def record_execution_times(runs: list[tuple[str, float, str]]) -> None:
    """Record (page, seconds, ISO date) runs of this process's profile on this machine."""
    from . import profile
    from .tensors import device_name

    device = device_name()
    update_execution_times(
        [
            {"page": page, "profile": profile.name(), "device": device,
             "seconds": f"{seconds:.1f}", "date": day}
            for page, seconds, day in runs
        ]
    )  # fmt: skip


def replace_pages(path: Path, fields: list[str], rows: list[dict]) -> None:
    """Replace every row of the pages in ``rows`` (one run measures a page as a whole)."""
    pages = {r["page"] for r in rows}
    write(path, fields, [r for r in read(path) if r["page"] not in pages] + rows)


@dataclasses.dataclass(frozen=True)
class GpuAssumption:
    """What a projection assumes of one GPU: its published dense peak in the precision the
    Trainer uses there, the share of it that the book's small models sustain, and a fixed
    cost per minibatch (Python and kernel launches, which small models cannot hide)."""

    name: str
    peak_tflops: float
    fraction: float
    overhead_ms: float
    why: str

    @property
    def sustained_flops(self) -> float:
        return self.peak_tflops * 1e12 * self.fraction


GPU_ASSUMPTIONS = {
    "T4": GpuAssumption(
        "Colab T4 (fp16 with a gradient scaler)", 65.0, 0.04, 5.0,
        "65 TFLOP/s is the T4's fp16 tensor-core peak; 4% of it (2.6 TFLOP/s, a third of "
        "its 8.1 TFLOP/s fp32 peak) is what the course's AlexNet run on an older GPU "
        "sustained in fp32 (415 ex/s at 5.6 GFLOP per training example): the T4 is "
        "power-limited to 70 W, and minibatches of 128 small images keep its tensor "
        "cores mostly idle",
    ),
    "H100": GpuAssumption(
        "H100 (bf16)", 989.0, 0.03, 2.0,
        "989 TFLOP/s is the H100 SXM's dense bf16 peak; eager PyTorch on 28-224 pixel "
        "images in minibatches of 128 sustains a few percent of it, and 3% (30 TFLOP/s) "
        "puts AlexNet near d2l 0.17's 4,150 ex/s on an older data-centre GPU",
    ),
}  # fmt: skip


def projected_seconds(smoke_row: dict, gpu: str = "T4") -> float | None:
    """Projected seconds of a page's full-profile training on ``gpu`` (a key of
    ``GPU_ASSUMPTIONS``) from its smoke record; None when the record has no FLOP count."""
    assumption = GPU_ASSUMPTIONS[gpu]
    flop = float(smoke_row.get("full_flop") or 0)
    if flop <= 0 or math.isnan(flop):
        return None
    batches = float(smoke_row.get("full_batches") or 0)
    return flop / assumption.sustained_flops + batches * assumption.overhead_ms / 1000


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes >= 10 else f"{max(minutes, 0.1):.1f} min"


class Cost:
    """The expected cost of one page; shows as one Markdown paragraph in a notebook."""

    def __init__(self, page: str):
        self.page = page
        quick = [r for r in read(EXECUTION_TIMES) if r["page"] == page and r["profile"] == "quick"]
        self.quick = quick[0] if quick else None
        self.gpu = [r for r in read(GPU_RUNS) if r["page"] == page]
        smoke = [r for r in read(SMOKE) if r["page"] == page]
        self.smoke = smoke[0] if smoke else None

    def measured_gpu_runs(self) -> list[dict]:
        """This page's rows of a recorded GPU run, leaving out pages that failed there."""
        return [r for r in self.gpu if (r.get("status") or "ok") == "ok"]

    def parts(self) -> list[str]:
        """Two short sentences: the CPU time of the quick profile, then a GPU's time of the
        full profile (measured if a GPU run is recorded, else projected for a Colab T4)."""
        if self.quick:
            cpu = f"About {_minutes(float(self.quick['seconds']))} on a CPU (quick profile)."
        else:
            cpu = "The CPU time of the quick profile is not measured yet."
        parts = [cpu]
        runs = self.measured_gpu_runs()
        projected = projected_seconds(self.smoke) if self.smoke else None
        if runs:
            seconds = sum(float(r["seconds"]) for r in runs)
            parts.append(f"About {_minutes(seconds)} on a {runs[0]['device']} (full, measured).")
        elif projected is not None:
            parts.append(f"About {_minutes(projected)} on a Colab T4 (full, projected).")
        return parts

    def __str__(self) -> str:
        return "Expected time: " + " ".join(self.parts())

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return "**Expected time:** " + " ".join(self.parts())


def expected_cost(page: str) -> Cost:
    """The cost of running ``page`` (e.g. ``"ch08_modern_cnn/googlenet"``) as measured."""
    if not isinstance(page, str):
        raise TypeError(f"page must be a str such as 'ch08_modern_cnn/googlenet', got {page!r}")
    if "/" not in page:
        raise ValueError(
            f"page must be 'chapter_folder/page_name' as under book/, e.g. "
            f"'ch08_modern_cnn/googlenet', got {page!r}"
        )
    return Cost(page)
