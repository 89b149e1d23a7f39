"""Rehearse the prepared GPU run on this CPU, in an environment with only what the GPU has.

    python code/tools/rehearsal.py [--settings t4,ampere] [--jobs 2]   # make rehearsal

A lent GPU machine has Python with torch, torchvision, numpy, pandas, matplotlib and tqdm,
the repository's tree and ``_build/gpu`` (``make gpu-run``), and nothing else: no Jupyter,
no package index, no ``dlcourse`` installed, no house-price wheel. This tool builds such an
environment, ``_build/rehearsal/venv``, and runs ``gpu_run.py run`` in it over every
prepared page, one minibatch per fit (``DLCOURSE_SMOKE_BATCHES=1``), ``--jobs`` pages at a
time with one torch thread each, once per GPU setting: ``t4`` (fp16 with a gradient
scaler, channels-last; at the quick profile's sizes, since fp16 is ten times slower than
float32 on a CPU) and ``ampere`` (bf16, channels-last, and ``torch.compile`` on NiN, at the
full sizes of the smoke profile). A page fails the rehearsal on any error but a quality
assertion (see ``gpu_run.py``); the seconds of each run are printed.

The environment is a venv without pip whose site-packages holds symbolic links to the
distributions in ``.venv`` that torch, torchvision, numpy, pandas, matplotlib and tqdm need
(their top-level packages and modules, ``.libs`` folders and ``.dist-info``, found from the
installed ``requires``, markers and extras evaluated): a second copy of torch would cost
minutes and gigabytes and could differ from the one that builds the book. A stamp file keeps
the list of distributions and their versions; the links are made again only when it changes.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "_build" / "rehearsal"
GPU_PACKAGES = ("torch", "torchvision", "numpy", "pandas", "matplotlib", "tqdm")
# What the rehearsal adds to each GPU setting: torch.compile on one CNN page with one fit.
EXTRA_ENV = {"t4": [], "ampere": ["ch08_modern_cnn/nin:DLCOURSE_COMPILE=1"]}
# The sizes each setting runs at: fp16 runs about ten times slower than float32 on a CPU
# (no fast kernels), so the T4's code paths are tried at the quick profile's sizes; the
# A100/H100's bf16 at the full sizes (smoke).
PROFILE = {"t4": "quick", "ampere": "smoke"}


def closure(roots=GPU_PACKAGES) -> dict[str, importlib.metadata.Distribution]:
    """The installed distributions that ``roots`` need, by canonical name."""
    found: dict[str, importlib.metadata.Distribution] = {}
    extras: dict[str, set[str]] = {}
    todo = [(name, frozenset()) for name in roots]
    while todo:
        name, wanted = todo.pop()
        key = canonicalize_name(name)
        if key in found and wanted <= extras[key]:
            continue
        try:
            dist = found.get(key) or importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise LookupError(
                f"{name}, which the GPU machine's packages need, is not installed in "
                f"{sys.prefix}; run make setup"
            ) from None
        found[key] = dist
        extras[key] = extras.get(key, set()) | wanted
        for line in dist.requires or []:
            req = Requirement(line)
            markers = [{"extra": extra} for extra in ("", *extras[key])]
            if req.marker is None or any(req.marker.evaluate(env) for env in markers):
                todo.append((req.name, frozenset(req.extras)))
    return dict(sorted(found.items()))


def top_entries(dist: importlib.metadata.Distribution) -> set[PurePosixPath]:
    """The files a distribution installed into site-packages (no scripts, no caches)."""
    return {
        PurePosixPath(str(f))
        for f in dist.files or []
        if not str(f).startswith("..") and "__pycache__" not in PurePosixPath(str(f)).parts
    }


def link_plan(dists, others) -> list[PurePosixPath]:
    """The paths under site-packages to link for ``dists``: whole folders, unless one of
    ``others`` has files in a folder too (a namespace such as ``nvidia/``), then its parts."""
    ours = set().union(*(top_entries(d) for d in dists))
    foreign_files = set().union(*(top_entries(d) for d in others)) - ours
    foreign = {folder for f in foreign_files for folder in f.parents if folder.parts}

    def plan(path: PurePosixPath) -> list[PurePosixPath]:
        if path not in foreign:
            return [path]
        depth = len(path.parts) + 1
        children = {PurePosixPath(*f.parts[:depth]) for f in ours if path in f.parents}
        return [part for child in sorted(children) for part in plan(child)]

    return [part for top in sorted({PurePosixPath(f.parts[0]) for f in ours}) for part in plan(top)]


def build(home: Path = HOME) -> Path:
    """The rehearsal's venv (made again only when the distributions changed); its python."""
    dists = closure()
    venv = home / "venv"
    python = venv / "bin" / "python"
    stamp = {
        "python": sys.version,
        "distributions": {key: dist.version for key, dist in dists.items()},
    }
    stamp_file = home / "venv.stamp"
    if python.exists() and stamp_file.exists() and json.loads(stamp_file.read_text()) == stamp:
        return python
    sites = {Path(dist.locate_file("")) for dist in dists.values()}
    if len(sites) != 1:
        raise RuntimeError(f"the GPU packages are installed in several places: {sorted(sites)}")
    site = sites.pop()
    if venv.exists():
        shutil.rmtree(venv)
    home.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)  # the interpreter of .venv
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    target = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    others = [
        d
        for d in importlib.metadata.distributions()
        if canonicalize_name(d.metadata["Name"]) not in dists
    ]
    links = [path for path in link_plan(dists.values(), others) if (site / path).exists()]
    for path in links:
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).symlink_to(site / path)
    stamp_file.write_text(json.dumps(stamp, indent=1))
    print(f"rehearsal environment: {len(dists)} distributions, {len(links)} links in {target}")
    return python


def clean_env() -> dict:
    """This environment without what points into .venv; one torch thread per page."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env["OMP_NUM_THREADS"] = "1"
    return env


def rehearse(python: Path, settings: str, jobs: int, args: list[str] = ()) -> tuple[int, float]:
    """Run every prepared page under one GPU setting; (exit status, seconds)."""
    command = [str(python), str(ROOT / "code" / "tools" / "gpu_run.py"), "run",
               "--profile", PROFILE[settings], "--budget", "1e9", "--jobs", str(jobs),
               "--settings", settings, "--env", "DLCOURSE_SMOKE_BATCHES=1",
               "--out", str(HOME / settings), *args]  # fmt: skip
    for value in EXTRA_ENV[settings]:
        command += ["--env", value]
    start = time.perf_counter()
    status = subprocess.run(command, cwd=ROOT, env=clean_env()).returncode
    return status, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="t4,ampere",
                        help="GPU settings to rehearse, comma-separated (t4, ampere)")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=2, help="pages at a time")
    parser.add_argument("--build-only", action="store_true", help="make the venv, run nothing")
    args, rest = parser.parse_known_args(argv)
    names = [s for s in args.settings.split(",") if s]
    for name in names:
        if name not in EXTRA_ENV:
            parser.error(f"--settings {name!r} is not one of {', '.join(EXTRA_ENV)}")
    python = build()
    if args.build_only:
        return 0
    if not (ROOT / "_build" / "gpu" / "pages").is_dir():
        parser.error("nothing is prepared in _build/gpu: run `make gpu-run` first")
    results = {name: rehearse(python, name, args.jobs, rest) for name in names}
    for name, (status, seconds) in results.items():
        print(f"rehearsal {name}: {'passed' if status == 0 else 'FAILED'} in {seconds:.0f} s")
    return 1 if any(status for status, _ in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
