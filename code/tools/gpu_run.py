"""The full profile of every training page of chapters 4-8 on a GPU, in one go, ch. 8 first.

Made for a lent GPU machine that has Python with torch, torchvision, numpy, pandas and
matplotlib but no Jupyter and no network (so everything it needs travels with the tree):

    python code/tools/gpu_run.py prepare        # here: pages -> _build/gpu/, data copied in
    python3 code/tools/gpu_run.py run [--budget 540]   # there, from the repository root
    python code/tools/gpu_run.py run --profile smoke   # here: try it out on the CPU

``prepare`` (``make gpu-run``) turns each training page into a list of its code cells
(``_build/gpu/pages/NN_page.json``) and copies Fashion-MNIST's four files beside them, and
prints the command to run. ``run`` executes each page's cells in a fresh Python process with
``DLCOURSE_PROFILE=full``, as the notebook would (magics are dropped; cells tagged
``raises-exception`` may raise), and the Trainer records every fit. It prints, per page and
training run: examples/s, seconds per epoch, peak GPU memory, final validation accuracy next
to the reference, and writes them to ``$OUT/gpu_runs.csv`` (or ``_build/gpu/gpu_runs.csv``)
in the format of ``dlcourse/records/gpu_runs.csv``, where they are committed. Pages not
started within the time budget are listed as skipped.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "_build" / "gpu"
FIELDS = [
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
]  # fmt: skip (the same columns as dlcourse.costs.GPU_FIELDS; this side has no dlcourse)

# What each page compares with (validation accuracy; source in the page and the syllabus).
REFERENCES = {
    "ch04_linear_classification/softmax_scratch": "0.833 (d2l 1.0.3, measured)",
    "ch04_linear_classification/softmax_concise": "0.833 (d2l 1.0.3, measured)",
    "ch05_mlp/mlp_implementation": "0.845 (bare PyTorch loop)",
    "ch05_mlp/dropout": "0.867 (lecture settings, bare loop)",
    "ch07_cnn/lenet": "0.736 (textbook recipe, measured)",
    "ch08_modern_cnn/alexnet": "0.870 at 415 ex/s (course lecture)",
    "ch08_modern_cnn/googlenet": "0.879 at 391 ex/s (course lecture)",
}


def prepare() -> None:
    """Write every training page's code cells and the data set under ``_build/gpu``."""
    sys.path.insert(0, str(Path(__file__).parent))
    import smoke

    from dlcourse import data

    if WORK.exists():
        shutil.rmtree(WORK)
    (WORK / "pages").mkdir(parents=True)
    todo = sorted(smoke.training_pages(), key=lambda p: p.parent.name, reverse=True)  # ch. 8 first
    for number, page in enumerate(todo):
        nb = smoke.pages.read_page(page)
        cells = [
            {"source": c.source, "tags": c.metadata.get("tags", [])}
            for c in nb.cells
            if c.cell_type == "code"
        ]
        name = str(page.relative_to(ROOT / "book").with_suffix(""))
        target = WORK / "pages" / f"{number:02d}_{page.stem}.json"
        target.write_text(json.dumps({"page": name, "folder": str(page.parent.relative_to(ROOT)),
                                      "cells": cells}))  # fmt: skip
    data_dir = WORK / "data" / "fashion-mnist"
    data_dir.mkdir(parents=True)
    for images, labels, _ in data.FASHION_MNIST_FILES.values():
        for name in (images, labels):
            found = data.find_fashion_mnist_file(name)
            shutil.copy(found, data_dir / found.name)
    size = sum(f.stat().st_size for f in WORK.rglob("*") if f.is_file()) / 2**20
    print(f"prepared {len(todo)} pages and the data ({size:.0f} MiB) in {WORK.relative_to(ROOT)}")
    print("on the GPU machine, from the repository root (carry _build/gpu):")
    print("    python3 code/tools/gpu_run.py run --budget 540")


def run_cells(spec: dict) -> int:
    """Execute one page's cells in this process (called in a fresh process per page)."""
    import matplotlib

    matplotlib.use("Agg")
    os.chdir(ROOT / spec["folder"])
    namespace: dict = {"__name__": "__main__", "display": print}
    failed = 0
    for number, cell in enumerate(spec["cells"], start=1):
        lines = [ln for ln in cell["source"].splitlines() if not ln.lstrip().startswith(("%", "!"))]
        try:
            exec(compile("\n".join(lines), f"{spec['page']} cell {number}", "exec"), namespace)
        except Exception as error:  # report and go on: later runs still measure something
            if "raises-exception" in cell["tags"]:
                continue
            failed += 1
            print(f"  cell {number}: {type(error).__name__}: {error}", flush=True)
    return 1 if failed else 0


def run(budget: float, profile: str = "full") -> int:
    import torch

    out = Path(os.environ.get("OUT") or WORK)
    out.mkdir(parents=True, exist_ok=True)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU (no GPU)"
    today = datetime.date.today().isoformat()
    env = {
        **os.environ,
        "DLCOURSE_PROFILE": profile,
        "DLCOURSE_DATA": str(WORK / "data"),
        "PYTHONPATH": str(ROOT / "code"),
        "MPLBACKEND": "Agg",
    }
    start, rows, status = time.perf_counter(), [], 0
    print(f"{device}, torch {torch.__version__}; budget {budget:.0f} s")
    for spec_file in sorted((WORK / "pages").glob("*.json")):
        spec = json.loads(spec_file.read_text())
        if time.perf_counter() - start > budget:
            print(f"SKIPPED {spec['page']}: the time budget is spent")
            continue
        record = out / f"{spec_file.stem}.jsonl"
        page_start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "page", str(spec_file)],
            env={**env, "DLCOURSE_RECORD": str(record)},
        )
        status |= done.returncode
        print(f"{spec['page']}: {time.perf_counter() - page_start:.0f} s", flush=True)
        fits = [json.loads(x) for x in record.read_text().splitlines()] if record.exists() else []
        for fit in fits:
            epochs = max(fit["epochs"], 1)
            row = {
                "page": spec["page"],
                "model": fit["model"],
                "examples_per_sec": f"{fit['examples_per_sec'] or 0:.0f}",
                "seconds_per_epoch": f"{fit['seconds'] / epochs:.2f}",
                "peak_memory_mb": f"{fit['peak_memory_mb']:.0f}",
                "val_acc": "" if fit["val_acc"] is None else f"{fit['val_acc']:.4f}",
                "reference": REFERENCES.get(spec["page"], ""),
                "seconds": f"{fit['seconds']:.1f}",
                "device": device,
                "torch": torch.__version__,
                "date": today,
            }
            rows.append(row)
            print("   " + "  ".join(f"{k} {row[k]}" for k in FIELDS[1:7]), flush=True)
    with (out / "gpu_runs.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} training runs in {time.perf_counter() - start:.0f} s -> {out}/gpu_runs.csv")
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare")
    r = sub.add_parser("run")
    r.add_argument("--budget", type=float, default=540.0, help="seconds before no new page")
    r.add_argument("--profile", default="full", help="smoke: try the command out on a CPU")
    p = sub.add_parser("page")
    p.add_argument("spec", type=Path)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare()
        return 0
    if args.command == "run":
        return run(args.budget, args.profile)
    return run_cells(json.loads(args.spec.read_text()))


if __name__ == "__main__":
    sys.exit(main())
