"""dlcourse.costs: the "Expected cost" line of the training pages, from the records."""

import pytest

from dlcourse import costs


@pytest.fixture
def records(tmp_path, monkeypatch):
    for name in ("EXECUTION_TIMES", "SMOKE", "GPU_RUNS"):
        monkeypatch.setattr(costs, name, tmp_path / f"{name.lower()}.csv")
    return tmp_path


def test_a_page_without_records_says_so(records):
    assert str(costs.expected_cost("ch08_modern_cnn/alexnet")) == (
        "Expected cost: quick profile not measured yet."
    )


def test_quick_time_and_smoke_projection(records):
    costs.update_execution_times(
        [
            {
                "page": "ch07_cnn/lenet",
                "profile": "quick",
                "device": "CPU",
                "seconds": "90",
                "date": "2026-12-01",
            }
        ]  # fmt: skip
    )
    costs.replace_pages(
        costs.SMOKE,
        costs.SMOKE_FIELDS,
        [
            {
                "page": "ch07_cnn/lenet",
                "fits": 3,
                "seconds_per_batch": "0.5",
                "peak_memory_mb": "1536",
                "projected_full_seconds": "3000",
                "device": "CPU",
                "date": "2026-12-01",
            }
        ],  # fmt: skip
    )
    line = str(costs.expected_cost("ch07_cnn/lenet"))
    assert "quick profile about 1.5 min on a CPU (CPU, 2026-12-01)" in line
    assert "full profile about 50 min on a CPU (CPU), projected from a two-minibatch" in line
    assert "peak memory at full size about 1.5 GB" in line
    assert costs.expected_cost("ch07_cnn/lenet")._repr_markdown_().startswith("**Expected cost:**")


def test_a_gpu_run_replaces_the_projection(records):
    costs.replace_pages(
        costs.GPU_RUNS,
        costs.GPU_FIELDS,
        [
            {
                "page": "ch08_modern_cnn/alexnet",
                "model": "AlexNet",
                "examples_per_sec": "9000",
                "seconds_per_epoch": "7",
                "peak_memory_mb": "5000",
                "val_acc": "0.88",
                "reference": "0.870",
                "seconds": s,
                "device": "H200",
                "torch": "2.9",
                "date": "2026-12-02",
            }
            for s in ("60", "30")
        ],  # fmt: skip
    )
    line = str(costs.expected_cost("ch08_modern_cnn/alexnet"))
    assert "full profile about 1.5 min on a GPU (H200, 2026-12-02; training runs only)" in line


def test_later_times_replace_earlier_ones(records):
    row = {"page": "a/b", "profile": "quick", "device": "CPU", "seconds": "10", "date": "d1"}
    costs.update_execution_times([row])
    costs.update_execution_times([{**row, "seconds": "20", "date": "d2"}])
    assert [r["seconds"] for r in costs.read(costs.EXECUTION_TIMES)] == ["20"]


@pytest.mark.parametrize("bad", ["alexnet", "", 3])
def test_page_names_are_checked(bad):
    error = TypeError if bad == 3 else ValueError
    with pytest.raises(error, match=rf"page must be .*{bad!r}"):
        costs.expected_cost(bad)
