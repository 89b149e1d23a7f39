"""Run the twins as a reader does: outside the repository, with the package from a wheel.

    python code/tools/outside.py [TWIN ...]                 # this (pinned) environment
    python code/tools/outside.py --stack colab [TWIN ...]   # Colab's stack (tests/compat/)
    python code/tools/outside.py --stack lowest [TWIN ...]  # pyproject.toml's lower bounds

A wheel is built from the working tree and installed with ``--no-deps``, as the Colab cell
installs it: into a folder of its own that comes first on ``PYTHONPATH`` (this environment),
or into the stack's virtual environment ``_build/compat/<stack>``, made from
``tests/compat/<stack>.txt`` (which names its Python in a ``# python:`` line; when that
Python is not installed here, the machine's Python is used and the report says so).

Each twin is copied into a new temporary directory, keeping only its ``book/chNN/`` path,
and executed there by nbval, which compares every cell's outputs with the twin's by the
same rules as ``make outputs`` (``tests/nbval_sanitize.cfg``); ``--jobs`` twins run at a
time (two by default, each kernel with the one torch thread the Makefile sets). A twin
that needs a file of the repository fails here. The report lists each twin as passed or
failed, with the cells whose outputs differ; the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "tests" / "compat"
BUILD = ROOT / "_build"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


def run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def build_wheel(python: str = sys.executable) -> Path:
    """A wheel of dlcourse built from the working tree (in _build/wheel)."""
    out = BUILD / "wheel"
    shutil.rmtree(out, ignore_errors=True)
    try:
        run([python, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
             "-w", out, ROOT])  # fmt: skip
    finally:
        shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools' scratch folder
    return next(out.glob("dlcourse-*.whl"))


def stack_python(requirements: Path) -> tuple[str, str]:
    """The interpreter a stack asks for, or this machine's Python; and a note on which."""
    wanted = re.search(r"^# python: (\S+)", requirements.read_text(), re.M)
    if wanted is None:
        raise ValueError(f"{requirements} must name its Python in a '# python: 3.x' line")
    version = wanted.group(1)
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(
        str(p) for p in Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}")
    )
    for found in filter(None, candidates):
        if subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
            return found, f"Python {version}"
    base = getattr(sys, "_base_executable", sys.executable)
    here = ".".join(map(str, sys.version_info[:2]))
    return base, (
        f"Python {here} (the stack asks for Python {wanted.group(1)}, which is not installed "
        "on this machine; the packages are the stack's)"
    )


def installs(requirements: str) -> list[str]:
    """What a requirements text installs: its Python line and requirement lines (comments,
    such as the ``# explained:`` lines, change nothing in the environment)."""
    lines = [line.strip() for line in requirements.splitlines()]
    return [line for line in lines if line and (line[0] != "#" or line.startswith("# python:"))]


def stack_environment(stack: str) -> tuple[Path, str]:
    """The virtual environment of ``stack``, (re)made when its requirements changed."""
    requirements = COMPAT / f"{stack}.txt"
    if not requirements.exists():
        names = sorted(p.stem for p in COMPAT.glob("*.txt"))
        raise ValueError(f"no stack {stack!r}: tests/compat/ has {', '.join(names)}")
    venv = BUILD / "compat" / stack
    python, note = stack_python(requirements)
    stamp = venv / ".installed"
    if not stamp.exists() or installs(stamp.read_text()) != installs(requirements.read_text()):
        shutil.rmtree(venv, ignore_errors=True)
        run([python, "-m", "venv", venv])
        pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
        run([*pip, "-r", requirements])
        stamp.write_text(requirements.read_text())
    return venv / "bin" / "python", note


def cell_requirements(twins: list[Path]) -> list[str]:
    """What the twins' Colab cells install besides dlcourse (e.g. 5.7's data wheel): the
    run installs exactly these, so a page whose cell forgets one fails here as in Colab."""
    import nbformat

    import pages

    found = set()
    for twin in twins:
        first = next(c for c in nbformat.read(twin, as_version=4).cells if c.cell_type == "code")
        found.update(pages.installed_by(first.source))
    return sorted(found)


def install_wheel(python: Path, wheel: Path, target: Path | None = None, extras=()) -> None:
    where = ["--target", target] if target else ["--force-reinstall"]
    run([python, "-m", "pip", "install", "--quiet", "--no-deps", *where, wheel, *extras])


def copy_twins(twins: list[Path], into: Path) -> list[Path]:
    copies = []
    for twin in twins:
        copy = into / twin.resolve().relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(twin, copy)
        copies.append(copy)
    (into / "pytest.ini").write_text("[pytest]\n")  # no configuration from anywhere above
    return copies


def failures_by_twin(junit: Path) -> dict[str, list[str]]:
    """{twin: [failed cell names]} from pytest's JUnit XML (xunit1: one file per case); a
    cell whose outputs merely differ is marked ``(differs)``, one that raised is not."""
    failed: dict[str, list[str]] = {}
    for case in ET.parse(junit).iter("testcase"):
        problem = case.find("failure")
        problem = problem if problem is not None else case.find("error")
        if problem is not None:
            text = (problem.get("message") or "") + (problem.text or "")
            differs = "Cell outputs differ" in text
            name = case.get("name", "?") + (" (differs)" if differs else "")
            failed.setdefault(case.get("file", "?"), []).append(name)
    return failed


def explained(requirements: Path | None) -> dict[str, str]:
    """{twin: reason} of a stack's ``# explained: TWIN: reason`` lines: twins whose outputs
    differ on that stack in a way the page itself explains to the reader."""
    if requirements is None:
        return {}
    found = re.findall(r"^# explained: (\S+): (.+)$", requirements.read_text(), re.M)
    return dict(found)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", help="a stack of tests/compat/ (default: this environment)")
    parser.add_argument("--jobs", type=int, default=2, help="twins at a time (default 2)")
    parser.add_argument(
        "--run",
        action="store_true",
        help="run top to bottom without comparing outputs (notebooks that have none, such as "
        "the assignments); any error but one tagged raises-exception fails",
    )
    parser.add_argument("twins", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be a positive number of twins at a time, got {args.jobs}")

    sys.path.insert(0, str(Path(__file__).parent))
    import execution

    import pages

    if args.run:  # notebooks of their own (not a page's twin), in the order given
        twins = list(args.twins)
    else:
        pages_given = [twin.with_suffix(".md") for twin in args.twins] or pages.notebook_pages()
        twins = [pages.twin_of(page) for page in execution.slowest_first(pages_given)]
    wheel = build_wheel()
    workdir = Path(tempfile.mkdtemp(prefix="dlcourse-outside-"))
    env = dict(os.environ, DLCOURSE_GLUE="0", PYDEVD_DISABLE_FILE_VALIDATION="1")
    env.pop("PYTHONPATH", None)
    if args.stack:
        python, note = stack_environment(args.stack)
        install_wheel(python, wheel, extras=cell_requirements(twins))
        label = f"stack {args.stack!r}: {note}"
    else:
        python = Path(sys.executable)
        site = workdir / "site-packages"
        install_wheel(python, wheel, target=site, extras=cell_requirements(twins))
        env["PYTHONPATH"] = str(site)
        label = "this environment"
    copies = copy_twins(twins, workdir)
    where = subprocess.run(
        [python, "-c", "import dlcourse, torch, numpy, pandas, matplotlib, sys; "
         "print(dlcourse.__file__, '| Python', sys.version.split()[0], '| torch', "
         "torch.__version__, '| numpy', numpy.__version__, '| pandas', pandas.__version__, "
         "'| matplotlib', matplotlib.__version__)"],
        cwd=workdir, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not where.startswith(str(workdir)) and not args.stack:
        raise RuntimeError(f"dlcourse was imported from {where.split()[0]}, not from the wheel")
    print(f"{label}\n  {where}\n  {len(copies)} twin(s) in {workdir}", flush=True)

    groups = [copies[i :: args.jobs] for i in range(args.jobs)]  # slowest first, dealt out
    started = time.perf_counter()
    runs = []
    for number, group in enumerate(filter(None, groups)):
        junit = workdir / f"junit-{number}.xml"
        command = [
            python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "junit_family=xunit1",
            f"--junitxml={junit}", "--nbval-lax" if args.run else "--nbval",
            f"--nbval-sanitize-with={SANITIZE}",
            "--nbval-cell-timeout=1800", *[c.relative_to(workdir) for c in group],
        ]  # fmt: skip
        runs.append((junit, subprocess.Popen([str(c) for c in command], cwd=workdir, env=env)))
    failed = {}
    for junit, process in runs:
        process.wait()
        failed.update(failures_by_twin(junit))
    reasons = explained(COMPAT / f"{args.stack}.txt" if args.stack else None)
    accepted = {
        twin: reasons[twin]
        for twin, cells in failed.items()
        if twin in reasons and all(cell.endswith("(differs)") for cell in cells)
    }
    failed = {twin: cells for twin, cells in failed.items() if twin not in accepted}
    passed = len(copies) - len(failed) - len(accepted)
    print(f"\n{label}: {passed} of {len(copies)} notebooks passed, {len(accepted)} differ as "
          f"their page explains, {len(failed)} failed, in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    for twin, reason in sorted(accepted.items()):
        print(f"  EXPLAINED {twin}: {reason}")
    for twin, cells in sorted(failed.items()):
        print(f"  FAILED {twin}: {len(cells)} cell(s): {', '.join(cells[:6])}")
    if not failed:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
