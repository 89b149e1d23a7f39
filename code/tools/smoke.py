"""Run every training page of chapters 3-8 in the smoke profile and project the full run.

    python code/tools/smoke.py [PAGE ...]     # all training pages of chapters 4-8 by default
    python code/tools/smoke.py --check        # one minibatch per fit, two pages at a time

The smoke profile (``DLCOURSE_PROFILE=smoke``, see ``dlcourse.profile``) keeps the full
profile's sizes (image sizes, batch sizes, widths) but stops each fit after two minibatches,
so a shape or memory error at full size shows up on a CPU in seconds. Each page is executed
as a notebook; every ``Trainer.fit`` appends its measurements to a record
(``DLCOURSE_RECORD``), from which this tool prints, per page: the fits, the seconds per
minibatch at full size, the peak memory, and the full profile's duration on this machine
projected from them (training minibatches only). The results go to
``code/dlcourse/records/smoke.csv``, which the pages' cost lines read.

A page fails the smoke run if a cell raises anything but an ``AssertionError``: the pages'
quality bounds (``dlcourse.profile.expect``) are meant for trained models, and two
minibatches train nothing, so those assertions are expected to fail here and are counted.

``--check`` (what ``make test`` runs) is the check without the measurement: it runs only
the pages whose full profile changes a tensor's shape (those that size their images with
``profile.image_size``; elsewhere the profiles differ only in epochs and numbers of
examples, so the book build has already run the same shapes), stops each fit after one
minibatch, runs ``--jobs`` pages at a time with one torch thread each, and records
nothing (one minibatch includes the warm-up and times nothing, so only a measured run
updates ``smoke.csv``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from nbclient import NotebookClient

from dlcourse.tensors import device_name

sys.path.insert(0, str(Path(__file__).parent))
import pages

ROOT = pages.ROOT
CHAPTERS = ("ch03", "ch04", "ch05", "ch06", "ch07", "ch08")


def training_pages(chapters: tuple[str, ...] = CHAPTERS) -> list[Path]:
    """Pages of ``chapters`` (by default 4-8) that train a model with the Trainer."""
    return [
        page
        for page in pages.notebook_pages()
        if page.parent.name.startswith(chapters) and ".fit(" in page.read_text()
    ]


def run_page(page: Path, record: Path, env: dict | None = None) -> tuple[list[str], int, float]:
    """Execute ``page`` in the smoke profile; return (failures, failed asserts, seconds).

    ``env``: more environment variables for the kernel (the check's batches and threads)."""
    nb = pages.read_page(page)
    settings = {"DLCOURSE_PROFILE": "smoke", "DLCOURSE_RECORD": str(record), **(env or {})}
    saved = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    start = time.perf_counter()
    try:
        NotebookClient(
            nb,
            timeout=900,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(page.parent)}},
        ).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    seconds = time.perf_counter() - start
    failures, asserts = [], 0
    code = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code, start=1):
        for out in cell.get("outputs", []):
            if out.output_type != "error":
                continue
            if out.ename == "AssertionError":
                asserts += 1
            elif "raises-exception" not in cell.metadata.get("tags", []):
                failures.append(f"code cell {number}: {out.ename}: {out.evalue}")
    return failures, asserts, seconds


def summarise(page: Path, fits: list[dict]) -> dict:
    """One row of smoke.csv from the fits that a page ran."""
    projected = flop = all_batches = 0.0
    for fit in fits:
        if fit["seconds_per_batch"] is None or not fit["batch_size"]:
            continue
        batches = math.ceil(fit["full_examples"] / fit["batch_size"])
        projected += fit["seconds_per_batch"] * batches * fit["max_epochs"]
        val_examples = fit.get("full_val_examples") or 0
        all_batches += (batches + math.ceil(val_examples / fit["batch_size"])) * fit["max_epochs"]
        # training is about three forward passes' worth of work (forward and backward)
        per_epoch = 3 * fit["full_examples"] + val_examples
        flop += (fit.get("flop_per_example") or 0) * per_epoch * fit["max_epochs"]
    return {
        "page": str(page.relative_to(ROOT / "book").with_suffix("")),
        "fits": len(fits),
        "seconds_per_batch": f"{max(f['seconds_per_batch'] or 0 for f in fits):.3f}",
        "peak_memory_mb": f"{max(f['peak_memory_mb'] for f in fits):.0f}",
        "projected_full_seconds": f"{projected:.0f}",
        "full_flop": f"{flop:.4g}",
        "full_batches": f"{all_batches:.0f}",
        "device": device_name(),
        "date": datetime.date.today().isoformat(),
    }


def smoke_page(page: Path, env: dict | None = None) -> tuple[Path, list[str], int, float, list]:
    """Run one page (in a worker process); its failures, failed asserts, seconds and fits."""
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "fits.jsonl"
        failures, asserts, seconds = run_page(page, record, env)
        lines = record.read_text().splitlines() if record.exists() else []
    return page, failures, asserts, seconds, [json.loads(line) for line in lines]


def main(argv: list[str]) -> int:
    from dlcourse import costs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", type=Path, help="pages (default: all training)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="one minibatch per fit, pages in parallel, nothing recorded",
    )
    parser.add_argument("--jobs", type=int, default=2, help="pages at a time with --check")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be a positive number of pages at a time, got {args.jobs}")
    todo = [page.resolve() for page in args.pages] or training_pages()
    if args.check and not args.pages:
        todo = [page for page in todo if "profile.image_size(" in page.read_text()]
    jobs = args.jobs if args.check else 1
    env = {"DLCOURSE_SMOKE_BATCHES": "1", "OMP_NUM_THREADS": "1"} if args.check else None
    rows, failed = [], []
    what = "one minibatch per fit, nothing recorded" if args.check else "two minibatches per fit"
    print(f"smoke profile: {len(todo)} training pages, {what} at full size, {jobs} at a time")
    print(f"{'page':44} {'fits':>4} {'s/batch':>8} {'peak MB':>8} {'full (proj.)':>12} {'ran':>6}")
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(smoke_page, page, env) for page in todo]
        for future in as_completed(futures):
            page, failures, asserts, seconds, fits = future.result()
            name = str(page.relative_to(ROOT / "book"))
            if failures:
                failed.append((name, failures))
            if not fits:
                failed.append((name, ["no Trainer.fit ran"]))
                continue
            row = summarise(page, fits)
            rows.append(row)
            minutes = float(row["projected_full_seconds"]) / 60
            projected = "not timed" if args.check else f"{minutes:.1f} min"
            s_per_batch = "-" if args.check else row["seconds_per_batch"]
            print(
                f"{name:44} {row['fits']:>4} {s_per_batch:>8} {row['peak_memory_mb']:>8} "
                f"{projected:>12} {seconds:>5.0f}s  ({asserts} quality asserts not applicable)",
                flush=True,
            )
    print(f"{len(todo)} pages in {time.perf_counter() - start:.0f} s of wall time")
    if not args.check:
        costs.replace_pages(costs.SMOKE, costs.SMOKE_FIELDS, rows)
    for name, failures in failed:
        print(f"FAILED {name}:\n  " + "\n  ".join(failures))
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    sys.exit(main(sys.argv[1:]))
