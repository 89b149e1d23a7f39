"""External links of the book: listed in one place (book/links.txt) and checked online.

    python code/tools/links.py list     # every external URL in the pages, sorted
    python code/tools/links.py check    # Sphinx's linkcheck over the book; skipped offline

A test checks that book/links.txt lists exactly the URLs the pages contain, so a new link
is reviewed when it is added. `check` runs the linkcheck builder (pages read, not executed;
output in _build/linkcheck) and reports every broken or timed-out link with its page and
line. Internal references are checked by the normal build (nitpicky, warnings as errors).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parents[2]
LINKS = ROOT / "book" / "links.txt"
OUT = ROOT / "_build" / "linkcheck"
URL = re.compile(r"(?<!git\+)https?://[^\s)\]>`\"'}]+")
IGNORED = ("http://127.0.0.1", "http://localhost")
FAILED = ("broken", "timeout")  # linkcheck's statuses of a link that does not work


def urls_in_pages() -> list[str]:
    found = set()
    for page in sorted((ROOT / "book").rglob("*.md")):
        if "_static" in page.parts:
            continue
        found.update(u.rstrip(".,;:") for u in URL.findall(page.read_text()))
    return sorted(u for u in found if not u.startswith(IGNORED))


def listed() -> list[str]:
    lines = LINKS.read_text().splitlines() if LINKS.exists() else []
    return sorted(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def unreachable(url: str, timeout: float = 3) -> str | None:
    """Why the host of ``url`` cannot be reached (offline, no route), or None if it can."""
    host = urlparse(url).hostname or url
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return None
    except OSError as exc:
        return f"{host}:443 is unreachable ({exc or type(exc).__name__})"


def linkcheck(out: Path = OUT) -> Path:
    """Run Sphinx's linkcheck builder over the book without executing it; its output.json."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"  # links live in the prose, not the outputs
    sphinx = config.setdefault("sphinx", {})
    # this copy of _config.yml lives in `out`: paths of local extensions are made absolute
    local = sphinx.get("local_extensions") or {}
    sphinx["local_extensions"] = {name: str(ROOT / path) for name, path in local.items()}
    sphinx.setdefault("config", {}).update(
        linkcheck_timeout=15,
        linkcheck_retries=2,
        linkcheck_ignore=[re.escape(prefix) for prefix in IGNORED],
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT)]
    command += ["--builder", "linkcheck", "--path-output", str(out)]
    command += ["--config", str(out / "_config.yml"), "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    report = out / "_build" / "html" / "output.json"
    # linkcheck exits 1 when a link is broken; only a missing report means it did not run
    if not report.exists() or report.stat().st_mtime < (out / "_config.yml").stat().st_mtime:
        raise RuntimeError(
            f"the linkcheck build did not run (exit {result.returncode}):\n"
            + (result.stdout + result.stderr)[-3000:]
        )
    return report


def failures(report: Path) -> list[str]:
    """``page:line: URL (status: why)`` for each link linkcheck found not working."""
    problems = []
    for line in report.read_text().splitlines():
        entry = json.loads(line)
        if entry["status"] in FAILED:
            problems.append(
                f"{entry['filename']}:{entry['lineno']}: {entry['uri']} "
                f"({entry['status']}: {entry['info']})"
            )
    return sorted(set(problems))


def check() -> int:
    urls = listed()
    why = unreachable(urls[0] if urls else "https://example.com")
    if why:
        print(
            f"external links NOT checked: {why}, so this machine seems offline. "
            f"Run `make links` where the internet is reachable to check the {len(urls)} "
            "links of book/links.txt (internal links are checked by `make book`)."
        )
        return 0
    report = linkcheck()
    problems = failures(report)
    checked = {json.loads(line)["uri"] for line in report.read_text().splitlines()}
    checked = {uri for uri in checked if uri.startswith(("http://", "https://"))}
    print("\n".join(problems) or f"all {len(checked)} external links work (pages and references)")
    return 1 if problems else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "list":
        print("\n".join(urls_in_pages()))
        sys.exit(0)
    if command != "check":
        sys.exit(f"unknown command {command!r}: use `list` or `check`")
    sys.exit(check())
