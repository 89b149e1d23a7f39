"""Tests of code/tools/links.py without the network: the offline skip and the report."""

import json
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "code" / "tools"))
import links  # noqa: E402  (code/tools/links.py)


def test_offline_skips_with_a_message_that_says_so(monkeypatch, capsys):
    def no_route(address, timeout):
        raise socket.gaierror(-2, "Name or service not known")

    def must_not_run(*args, **kwargs):
        raise AssertionError("linkcheck must not run offline")

    monkeypatch.setattr(links.socket, "create_connection", no_route)
    monkeypatch.setattr(links, "linkcheck", must_not_run)
    assert links.check() == 0
    out = capsys.readouterr().out
    host = links.urlparse(links.listed()[0]).hostname
    assert out.startswith(f"external links NOT checked: {host}:443 is unreachable")
    assert "Name or service not known" in out and "book/links.txt" in out


def entry(page, line, status, uri, info=""):
    """One line of linkcheck's output.json."""
    return {"filename": page, "lineno": line, "status": status, "code": 0, "uri": uri, "info": info}


def test_online_runs_linkcheck_and_fails_on_a_broken_link(monkeypatch, tmp_path, capsys):
    report = tmp_path / "output.json"
    entries = [
        entry("book/a.md", 3, "working", "https://ok.org"),
        entry("book/a.md", 7, "broken", "https://gone.org", "404 Client Error"),
        entry("book/b.md", 1, "redirected", "http://moved.org", "https://moved.org"),
        entry("book/b.md", 9, "timeout", "https://slow.org", "timed out"),
        entry("book/b.md", 2, "unchecked", "#label"),
    ]
    report.write_text("".join(json.dumps(e) + "\n" for e in entries))

    class Connection:
        def close(self):
            pass

    monkeypatch.setattr(links.socket, "create_connection", lambda address, timeout: Connection())
    monkeypatch.setattr(links, "linkcheck", lambda: report)
    assert links.check() == 1
    assert capsys.readouterr().out.splitlines() == [
        "book/a.md:7: https://gone.org (broken: 404 Client Error)",
        "book/b.md:9: https://slow.org (timeout: timed out)",
    ]
    report.write_text(json.dumps(entries[0]) + "\n")
    assert links.check() == 0
    assert capsys.readouterr().out == "all 1 external links work (pages and references)\n"


def test_linkcheck_that_does_not_run_is_an_error(monkeypatch, tmp_path):
    class Failed:
        returncode, stdout, stderr = 2, "", "Extension error: no module named x"

    monkeypatch.setattr(links.subprocess, "run", lambda *args, **kwargs: Failed())
    with pytest.raises(RuntimeError, match=r"did not run \(exit 2\):\nExtension error: no module"):
        links.linkcheck(tmp_path)
    config = (tmp_path / "_config.yml").read_text()
    assert "execute_notebooks: 'off'" in config and "linkcheck_timeout" in config
