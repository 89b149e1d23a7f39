"""pytest plugin: nbval's output check on notebooks that the book build already executed.

    pytest -p nbval_replay --replay-from _build/executed \\
        --nbval-sanitize-with tests/nbval_sanitize.cfg book/**/*.ipynb

Each twin ``book/X/page.ipynb`` is the reference; its counterpart
``_build/executed/book/X/page.ipynb`` holds the outputs of this build's one execution of
the page. Cells are collected by nbval itself (so its cell tags and comment markers keep
their meaning: ``nbval-ignore-output``, ``nbval-skip``, ``raises-exception``) and compared
by nbval's own ``compare_outputs`` with the same sanitizing; only the kernel is replaced
by the executed notebook, so nothing runs twice. The build's glue records (outputs that
myst-nb's ``glue`` adds) are left out, as they are in the twins.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from nbval import plugin as nbval_plugin


def pytest_addoption(parser):
    parser.getgroup("nbval").addoption(
        "--replay-from",
        metavar="DIR",
        help="compare each given .ipynb with the executed notebook at the same relative "
        "path under DIR instead of executing it",
    )


def pytest_collect_file(file_path, parent):
    if parent.config.option.replay_from and file_path.suffix == ".ipynb":
        return ReplayFile.from_parent(parent, path=file_path)
    return None


def without_glue(cell) -> list:
    """The cell's outputs less those that myst-nb's glue records (``metadata.scrapbook``):
    the build makes them, but the twins drop them, as Colab never shows them."""
    return [o for o in cell.outputs if "scrapbook" not in o.get("metadata", {})]


class ReplayFile(nbval_plugin.IPyNbFile):
    """A twin whose cells are checked against an already executed notebook."""

    def executed_path(self) -> Path:
        root = Path(str(self.config.rootpath))
        replay_dir = Path(self.config.option.replay_from)
        if not replay_dir.is_absolute():
            replay_dir = root / replay_dir
        return replay_dir / Path(self.path).resolve().relative_to(root)

    def setup(self):
        executed = self.executed_path()
        if not executed.exists():
            raise FileNotFoundError(
                f"{executed} does not exist: this page was not executed by the build; run "
                "`make book` (or `python code/tools/execution.py export ...`) first"
            )
        nb = nbformat.read(executed, as_version=4)
        self.executed_cells = [c for c in nb.cells if c.cell_type == "code"]
        self.setup_sanitize_files()

    def collect(self):
        for item in super().collect():  # nbval's collection: one item per code cell
            yield ReplayCell.from_parent(
                self, name=item.name, cell_num=item.cell_num, cell=item.cell, options=item.options
            )

    def teardown(self):
        pass  # no kernel was started


class ReplayCell(nbval_plugin.IPyNbCell):
    """One code cell: the build's outputs compared with the twin's by nbval's rules."""

    def runtest(self):
        if self.options["skip"]:
            pytest.skip()
        cells = self.parent.executed_cells
        if self.cell_num >= len(cells) or cells[self.cell_num].source != self.cell.source:
            self.raise_cell_error(
                "the executed page and its twin have different code here; regenerate the "
                "twin (`make notebooks`)"
            )
        outs = nbval_plugin.coalesce_streams(copy.deepcopy(without_glue(cells[self.cell_num])))
        errors = [o for o in outs if o.output_type == "error"]
        if errors and not self.options["check_exception"]:
            self.raise_cell_error(
                "Cell execution caused an exception", "\n" + "\n".join(errors[0].traceback)
            )
        unrun = self.cell.execution_count is None
        if unrun and self.cell.outputs:
            self.raise_cell_error("Unrun reference cell has outputs")
        if self.options["check"] and not unrun:
            reference = nbval_plugin.coalesce_streams(self.cell.outputs)
            if not self.compare_outputs(outs, reference):
                self.raise_cell_error("Cell outputs differ", "\n".join(self.comparison_traceback))
