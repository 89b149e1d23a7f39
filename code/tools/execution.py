"""One execution per page per build: the jupyter-cache that the book build fills, guarded
against a changed package, and read back for the output check and the twins.

    python code/tools/execution.py guard      # clear the cache if dlcourse or the profile changed
    python code/tools/execution.py execute --jobs 2  # run the pages not in the cache
    python code/tools/execution.py report     # per-page execution seconds of the last build
    python code/tools/execution.py export DIR # the build's executed notebooks, one per page
    python code/tools/execution.py twins      # write the twins from the build's executions

How it fits together (``make book``, ``make test``):

1. ``guard`` compares a stamp of the package's source (every ``code/dlcourse/**/*.py``)
   and measured records (``code/dlcourse/records/*.csv`` but the execution times that
   every build rewrites; the pages' cost lines read them), the execution profile and the
   torch version with the stamp kept in ``_build``, and forgets the previous executions
   when they differ. jupyter-cache keys a notebook only on its code cells and Sphinx
   re-reads only changed pages, so without this a change to ``dlcourse`` would be served
   from a stale cache.
2. ``execute`` runs every page whose code is not in the cache, ``--jobs`` pages at a time
   (slowest first, by the last recorded times), and stores each execution in the cache
   exactly as myst-nb would. Each kernel gets one torch thread (``OMP_NUM_THREADS=1``, set
   by the Makefile for every target that executes pages, so the twins, the build and
   ``make nbval``/``outside``/``compat`` compute alike). On two cores this is the fastest
   arrangement we measured: one page at a time with two threads leaves a core idle while a
   kernel starts, imports torch or runs operations too small to split (the largest CNN
   pages take about 1.8 times as long on one thread, the small pages no longer), and two
   pages of two threads each oversubscribe the cores.
3. ``jupyter-book build`` (``execute_notebooks: cache``) finds every page in the cache and
   builds the site from those executions. A page that failed in step 2 is not cached, so the
   build executes it again and fails on it with the cell's error, as it would on its own.
4. ``export`` writes each page's executed notebook from the cache; the output check
   (``code/tools/nbval_replay.py``) compares them with the committed twins by nbval's own
   rules, without executing anything again.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import re
import shutil
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from myst_nb.core.read import read_myst_markdown_notebook

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"
PACKAGE = ROOT / "code" / "dlcourse"
STAMP_NAME = "dlcourse.stamp"
TIMES_NAME = "execution_times.csv"  # rewritten by every build: not part of the stamp


def package_stamp(package: Path = PACKAGE) -> str:
    """A digest of everything a page's outputs depend on besides its own code cells."""
    import torch

    from dlcourse import profile

    digest = hashlib.sha256()
    # The measured records too (smoke.csv, gpu_runs.csv): the cost line of a page that trains
    # is read from them. Not execution_times.csv: every build rewrites it after executing,
    # so a stamp with it would forget every execution at the next build.
    records = [p for p in sorted(package.glob("records/*.csv")) if p.name != TIMES_NAME]
    for path in sorted(package.rglob("*.py")) + records:
        digest.update(str(path.relative_to(package)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    digest.update(f"profile={profile.name()} torch={torch.__version__} threads={threads}".encode())
    return digest.hexdigest()


def guard(build_dir: Path = BUILD, package: Path = PACKAGE) -> bool:
    """Forget the executions in ``build_dir`` unless they were made with this package and
    profile; True if they were forgotten (or there were none).

    Two caches would serve old outputs after a package change: jupyter-cache (it matches a
    page by its code cells) and Sphinx's environment (it re-reads only changed sources). So
    both go: the ``.jupyter_cache`` and the ``.doctrees`` folders of the build.
    """
    stamp = package_stamp(package)
    stamp_file = build_dir / STAMP_NAME
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return False
    for name in (".jupyter_cache", ".doctrees"):
        if (build_dir / name).exists():
            print(f"{package.name} or the profile changed since the last build: cleared {name}")
            shutil.rmtree(build_dir / name)
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp_file.write_text(stamp)
    return True


def executed(page: Path, cache_dir: Path = CACHE):
    """The cache record and executed notebook of ``page`` as it is now.

    The page is read with myst-nb's own reader, so its code cells hash exactly as they
    did when the build looked them up."""
    nb = read_myst_markdown_notebook(page.read_text(), path=page)
    cache = get_cache(str(cache_dir))
    try:
        record = cache.match_cache_notebook(nb)
    except KeyError:
        raise LookupError(
            f"{page}: no execution of this version of the page in {cache_dir}; "
            "build the book first (`make book`), which executes it"
        ) from None
    return record, cache.get_cache_bundle(record.pk).nb


def _execute_one(page: Path, timeout: int) -> tuple[Path, object, float, str | None]:
    """Execute ``page`` in its own folder as myst-nb does (in a worker process). A kernel
    that dies or never starts counts as the page's failure, not the whole run's."""
    nb = read_myst_markdown_notebook(page.read_text(), path=page)
    start = time.perf_counter()
    try:
        result = single_nb_execution(nb, cwd=str(page.parent), timeout=timeout,
                                     allow_errors=False, meta_override=True)  # fmt: skip
    except Exception:  # reported with its traceback; the page stays uncached
        return page, nb, time.perf_counter() - start, traceback.format_exc()
    return page, result.nb, result.time, result.exc_string


def slowest_first(page_list: list[Path]) -> list[Path]:
    """Pages ordered by their last recorded execution time, unknown ones first."""
    from dlcourse import costs, profile

    seconds = {
        row["page"]: float(row["seconds"])
        for row in costs.read(costs.EXECUTION_TIMES)
        if row["profile"] == profile.name()
    }
    book = ROOT / "book"

    def recorded(page: Path) -> float:
        known = page.resolve().is_relative_to(book)
        return seconds.get(page_key(page.resolve()), float("inf")) if known else float("inf")

    return sorted(page_list, key=lambda p: -recorded(p))


def execute(page_list: list[Path], jobs: int, cache_dir: Path = CACHE, timeout: int = 1800):
    """Execute the pages not in the cache, ``jobs`` at a time; cache each success.

    Returns the pages that failed (they stay out of the cache; the book build then runs
    them once more and reports the error)."""
    cache = get_cache(str(cache_dir))
    todo = []
    for page in page_list:
        try:
            cache.match_cache_notebook(read_myst_markdown_notebook(page.read_text(), path=page))
        except KeyError:
            todo.append(page)
    print(
        f"{len(page_list) - len(todo)} pages in the cache, {len(todo)} to execute, "
        f"{jobs} at a time (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})"
    )
    failed = []
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(_execute_one, page, timeout) for page in slowest_first(todo)]
        for future in as_completed(futures):
            page, nb, seconds, error = future.result()
            name = page.relative_to(ROOT) if page.is_relative_to(ROOT) else page
            if error is not None:
                failed.append(page)
                last = re.sub(r"\x1b\[[0-9;]*m", "", error).strip().splitlines()[-1]
                print(f"FAILED {name} after {seconds:.1f} s: {last} (the build runs it again)")
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, str(page), data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            print(f"{seconds:8.1f} s  {name}")
    print(f"executed {len(todo)} pages in {time.perf_counter() - start:.0f} s of wall time")
    return failed


def page_key(page: Path) -> str:
    return str(page.relative_to(ROOT / "book").with_suffix(""))


def toc_pages() -> list[Path]:
    sys.path.insert(0, str(Path(__file__).parent))
    import pages

    return pages.notebook_pages()


def report(page_list: list[Path], cache_dir: Path = CACHE) -> list[tuple]:
    """Print each page's execution seconds, slowest first, and return them."""
    rows = []
    for page in page_list:
        record, _ = executed(page, cache_dir)
        seconds = float(record.data.get("execution_seconds") or 0.0)
        rows.append((page, seconds, record.created.date()))
    rows.sort(key=lambda r: -r[1])
    total = sum(r[1] for r in rows)
    print(f"execution seconds per page ({len(rows)} pages, {total:.0f} s in all):")
    for page, seconds, day in rows:
        print(f"{seconds:8.1f}  {page.relative_to(ROOT)}  (executed {day.isoformat()})")
    return rows


def export(page_list: list[Path], out_dir: Path, cache_dir: Path = CACHE) -> list[Path]:
    """Write each page's executed notebook to ``out_dir``, mirroring the book's folders."""
    written = []
    for page in page_list:
        _, nb = executed(page, cache_dir)
        target = out_dir / page.relative_to(ROOT).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written.append(target)
    return written


def record_times(rows: list[tuple]) -> None:
    """Keep the build's execution seconds (page, seconds, day) in the package's record."""
    from dlcourse import costs

    costs.record_execution_times(
        [(page_key(page), seconds, day.isoformat()) for page, seconds, day in rows]
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("guard")
    exe = sub.add_parser("execute")
    exe.add_argument("--jobs", type=int, default=2, help="pages at a time (default 2)")
    rep = sub.add_parser("report")
    rep.add_argument("--record", action="store_true", help="also record the times")
    exp = sub.add_parser("export")
    exp.add_argument("out_dir", type=Path)
    sub.add_parser("twins")
    args = parser.parse_args(argv)

    if args.command == "guard":
        guard()
    elif args.command == "execute":
        if args.jobs < 1:
            parser.error(f"--jobs must be a positive number of pages at a time, got {args.jobs}")
        execute(toc_pages(), args.jobs)
    elif args.command == "report":
        rows = report(toc_pages())
        if args.record:
            record_times(rows)
    elif args.command == "export":
        written = export(toc_pages(), args.out_dir)
        print(f"wrote {len(written)} executed notebooks under {args.out_dir}")
    elif args.command == "twins":
        sys.path.insert(0, str(Path(__file__).parent))
        import pages

        ctx = pages.colab_context()
        for page in toc_pages():
            _, nb = executed(page)
            print(pages.write_twin(page, nb, ctx).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    sys.exit(main())
