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
"""

from __future__ import annotations

import csv
from pathlib import Path

RECORDS = Path(__file__).parent / "records"
EXECUTION_TIMES = RECORDS / "execution_times.csv"
SMOKE = RECORDS / "smoke.csv"
GPU_RUNS = RECORDS / "gpu_runs.csv"

EXECUTION_FIELDS = ["page", "profile", "device", "seconds", "date"]
SMOKE_FIELDS = [
    "page", "fits", "seconds_per_batch", "peak_memory_mb", "projected_full_seconds",
    "device", "date",
]  # fmt: skip
GPU_FIELDS = [
    "page", "model", "examples_per_sec", "seconds_per_epoch", "peak_memory_mb", "val_acc",
    "reference", "seconds", "device", "torch", "date",
]  # fmt: skip


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
    from .notebook import device_name

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

    def parts(self) -> list[str]:
        parts = []
        if self.quick:
            parts.append(
                f"quick profile about {_minutes(float(self.quick['seconds']))} on a CPU "
                f"({self.quick['device']}, {self.quick['date']})"
            )
        else:
            parts.append("quick profile not measured yet")
        if self.gpu:
            seconds = sum(float(r["seconds"]) for r in self.gpu)
            run = self.gpu[0]
            parts.append(
                f"full profile about {_minutes(seconds)} on a GPU "
                f"({run['device']}, {run['date']}; training runs only)"
            )
        elif self.smoke:
            parts.append(
                f"full profile about {_minutes(float(self.smoke['projected_full_seconds']))} "
                f"on a CPU ({self.smoke['device']}), projected from a two-minibatch smoke "
                "run, as no GPU run is recorded yet"
            )
        if self.smoke:
            peak = float(self.smoke["peak_memory_mb"]) / 1024
            parts.append(f"peak memory at full size about {peak:.1f} GB")
        return parts

    def __str__(self) -> str:
        return "Expected cost: " + "; ".join(self.parts()) + "."

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return "**Expected cost:** " + "; ".join(self.parts()) + "."


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
