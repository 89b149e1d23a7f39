"""External links of the book: listed in one place (book/links.txt) and checked online.

    python code/tools/links.py list     # every external URL in the pages, sorted
    python code/tools/links.py check    # request each listed URL; skipped when offline

A test checks that book/links.txt lists exactly the URLs the pages contain, so a new link
is reviewed when it is added. Internal references are checked by the build (nitpicky).
"""

from __future__ import annotations

import re
import socket
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINKS = ROOT / "book" / "links.txt"
URL = re.compile(r"(?<!git\+)https?://[^\s)\]>`\"'}]+")
IGNORED = ("http://127.0.0.1", "http://localhost")


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


def online(host: str = "example.com") -> bool:
    """True when the open internet is reachable (package mirrors alone do not count)."""
    try:
        socket.create_connection((host, 443), timeout=3).close()
        return True
    except OSError:
        return False


def check() -> int:
    urls = listed()
    if not online():
        print(f"offline: skipped checking {len(urls)} external links")
        return 0
    bad = []
    for url in urls:
        request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "links"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except Exception as exc:  # noqa: BLE001 - report every kind of failure
            status = exc
        ok = isinstance(status, int) and status < 400
        print(f"{'ok ' if ok else 'BAD'} {url} ({status})")
        bad += [] if ok else [url]
    return 1 if bad else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "list":
        print("\n".join(urls_in_pages()))
        sys.exit(0)
    sys.exit(check())
