"""Tests of code/dlcourse/training.py: Module, Classifier, TensorLoader, SGD and Trainer."""

import subprocess
import sys
import textwrap

import nbformat
import pytest
import torch
from nbclient import NotebookClient
from torch import nn

import dlcourse
from dlcourse import training
from dlcourse.training import TensorLoader


class LinearModel(dlcourse.Module):
    def __init__(self, num_inputs=2, lr=0.1):
        super().__init__()
        self.lr = lr
        self.net = nn.Linear(num_inputs, 1)

    def forward(self, X):
        return self.net(X)

    def loss(self, Y_hat, y):
        return ((Y_hat - y) ** 2).mean()


def regression_data(**kwargs):
    args = {
        "w": torch.tensor([2, -3.4]),
        "b": 4.2,
        "num_train": 200,
        "num_val": 100,
        "batch_size": 16,
        **kwargs,
    }
    return dlcourse.SyntheticRegressionData(**args)


def test_fit_lowers_the_loss_and_returns_the_history():
    history = dlcourse.Trainer(max_epochs=3, verbose=False).fit(LinearModel(), regression_data())
    assert len(history) == 3 and history.last["epoch"] == 3
    assert history["val_loss"][-1] < history["val_loss"][0] / 10
    assert set(history.last) == {"epoch", "train_loss", "val_loss", "seconds", "examples_per_sec"}
    assert history.last["examples_per_sec"] > 0


def test_history_names_known_metrics_on_a_typo():
    history = dlcourse.Trainer(max_epochs=1, verbose=False).fit(LinearModel(), regression_data())
    with pytest.raises(KeyError, match="no metric 'val_acc'.*'val_loss'"):
        history["val_acc"]


def test_fit_prints_one_line_per_epoch(capsys):
    dlcourse.Trainer(max_epochs=2).fit(LinearModel(), regression_data())
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch   1/2  train_loss ") and "examples/s  (cpu)" in lines[0]


def test_validation_metrics_are_weighted_by_examples():
    """10 examples in batches of 4 (4 + 4 + 2): the mean over examples, not over batches."""
    data = regression_data(num_train=8, num_val=10, batch_size=4)
    model = LinearModel()
    trainer = dlcourse.Trainer(max_epochs=1, verbose=False)
    trainer.fit(model, data)
    with torch.no_grad():
        exact = model.loss(model(data.X[8:]), data.y[8:]).item()
    assert trainer.history.last["val_loss"] == pytest.approx(exact, rel=1e-5)


def test_classifier_accuracy_counts_examples():
    Y_hat = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert dlcourse.Classifier.accuracy(Y_hat, torch.tensor([1, 1, 1])).item() == pytest.approx(
        2 / 3
    )


def test_classifier_loss_matches_torch_cross_entropy():
    Y_hat, y = torch.randn(5, 4), torch.tensor([0, 3, 1, 1, 2])
    model = dlcourse.SoftmaxRegression(num_outputs=4, num_inputs=3)
    torch.testing.assert_close(model.loss(Y_hat, y), nn.functional.cross_entropy(Y_hat, y))


def test_gradient_clipping_bounds_the_gradient_norm():
    model = LinearModel(lr=1e-3)
    trainer = dlcourse.Trainer(max_epochs=1, gradient_clip_val=0.5, verbose=False)
    norms = []
    original_step = torch.optim.SGD.step

    def spy(self, *args, **kwargs):
        norms.append(torch.norm(torch.stack([p.grad.norm() for p in model.parameters()])))
        return original_step(self, *args, **kwargs)

    torch.optim.SGD.step = spy
    try:
        trainer.fit(model, regression_data())
    finally:
        torch.optim.SGD.step = original_step
    assert max(norms) <= 0.5 + 1e-5


def test_non_finite_loss_names_epoch_and_batch():
    data = regression_data()
    data.y[37] = float("nan")  # training example 37; batches are shuffled
    with pytest.raises(FloatingPointError, match=r"became nan in epoch 1, batch \d+"):
        dlcourse.Trainer(max_epochs=2, verbose=False).fit(LinearModel(), data)


def test_deferred_check_finds_the_first_bad_batch_without_per_batch_syncs(monkeypatch):
    """With per-batch checks off (as on a GPU), losses are read once, after the epoch."""
    data = regression_data(batch_size=50)
    data.y[120:200] = float("inf")  # in batch 3 (rows 100-149) onwards when not shuffled
    data.get_dataloader = lambda train: data.get_tensorloader(
        (data.X, data.y), False, slice(0, 200) if train else slice(200, None)
    )
    reads = []
    original_item = torch.Tensor.item
    monkeypatch.setattr(torch.Tensor, "item", lambda t: reads.append(1) or original_item(t))
    trainer = dlcourse.Trainer(max_epochs=1, verbose=False, check_every_batch=False)
    with pytest.raises(FloatingPointError, match="in epoch 1, batch 3;"):
        trainer.fit(LinearModel(), data)
    assert len(reads) <= 1  # only the value quoted in the message; 4 batches were trained


def test_model_without_loss_is_refused():
    Incomplete = type("Incomplete", (dlcourse.Module,), {"forward": lambda self, X: X})
    with pytest.raises(TypeError, match=r"Incomplete does not define loss\(\)"):
        dlcourse.Trainer(max_epochs=1).fit(Incomplete(), regression_data())


def test_default_optimiser_is_sgd_at_the_model_learning_rate():
    optimizer = LinearModel(lr=0.25).configure_optimizers()
    assert type(optimizer) is torch.optim.SGD and optimizer.defaults["lr"] == 0.25
    model = LinearModel()
    params = model.configure_optimizers().param_groups[0]["params"]
    assert [id(p) for p in params] == [id(p) for p in model.parameters()]


def test_model_without_lr_or_optimiser_is_refused_with_the_fix():
    class NoRate(LinearModel):
        def __init__(self):
            super().__init__()
            del self.lr

    with pytest.raises(TypeError, match=r"NoRate has no learning rate: set self.lr"):
        dlcourse.Trainer(max_epochs=1, verbose=False).fit(NoRate(), regression_data())


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_max_epochs_must_be_positive(bad):
    error = TypeError if isinstance(bad, float) else ValueError
    with pytest.raises(error, match=f"max_epochs must be a positive integer, got .*{bad}"):
        dlcourse.Trainer(max_epochs=bad)


def test_each_fit_starts_a_fresh_history():
    trainer = dlcourse.Trainer(max_epochs=2, verbose=False, board=False)
    first = trainer.fit(LinearModel(), regression_data())
    second = trainer.fit(LinearModel(), regression_data())
    assert first["epoch"] == [1, 2] and second["epoch"] == [1, 2]
    assert trainer.history is second and first is not second


def test_fit_epoch_returns_its_result_apart_from_the_metrics():
    trainer = dlcourse.Trainer(max_epochs=1, verbose=False, board=False)
    model, data = LinearModel(), regression_data(num_train=40, batch_size=16)
    trainer.prepare_model(model)
    trainer.prepare_data(data)
    trainer.optim, trainer.epoch = model.configure_optimizers(), 1
    result = trainer.fit_epoch()
    assert isinstance(result, dlcourse.EpochResult)
    assert result.num_examples == 40 and result.batch_losses.shape == (3,)
    weights = torch.tensor([16.0, 16.0, 8.0])
    expected = float((result.batch_losses * weights).sum() / 40)
    assert result.train_loss == pytest.approx(expected)


def test_progress_bar_is_tqdm_and_is_cleared_after_each_epoch(capsys):
    trainer = dlcourse.Trainer(max_epochs=2, board=False)
    trainer.progress_bar = True  # as on an interactive terminal
    trainer.fit(LinearModel(), regression_data())
    captured = capsys.readouterr()
    for epoch in (1, 2):  # tqdm's bar: a description and the count of 13 minibatches
        assert f"epoch {epoch}/2:" in captured.err and "/13 [" in captured.err
    assert captured.err.endswith("\r")  # leave=False: the last bar was wiped
    assert captured.out.count("epoch ") == 2  # one line of metrics per epoch, on stdout


def fake_gpu(monkeypatch, capability=(8, 0)):
    """Pretend that one CUDA device of the given compute capability exists (no driver is
    touched: only the questions the Trainer asks are answered)."""
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a, **k: capability)
    # is_bf16_supported() says True on a T4 (emulation counts); the Trainer must not ask it
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)


def test_trainer_uses_the_gpu_when_there_is_one(monkeypatch):
    fake_gpu(monkeypatch)
    assert dlcourse.Trainer(max_epochs=1).device == torch.device("cuda:0")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    assert dlcourse.Trainer(max_epochs=1).device == torch.device("cpu")


def test_scratch_sgd_matches_torch_sgd():
    torch.manual_seed(1)
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    X = torch.randn(8, 3)
    ours, theirs = dlcourse.SGD(a.parameters(), lr=0.3), torch.optim.SGD(b.parameters(), lr=0.3)
    for net, opt in ((a, ours), (b, theirs)):
        for _ in range(3):
            opt.zero_grad()
            net(X).square().mean().backward()
            opt.step()
    torch.testing.assert_close(a.weight, b.weight)
    torch.testing.assert_close(a.bias, b.bias)


def test_scratch_sgd_matches_d2l(d2l):
    w1, w2 = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    for w, opt in ((w1, dlcourse.SGD([w1], lr=0.5)), (w2, d2l.SGD([w2], lr=0.5))):
        (w * torch.arange(3.0)).sum().backward()
        with torch.no_grad():  # d2l's Trainer wraps the step like this; ours needs no wrapper
            opt.step()
    torch.testing.assert_close(w1, w2)


def test_sgd_rejects_a_non_positive_learning_rate():
    with pytest.raises(ValueError, match="lr must be a positive number, got -0.1"):
        dlcourse.SGD([nn.Parameter(torch.zeros(1))], lr=-0.1)


def test_tensor_loader_rejects_tensors_of_different_lengths():
    with pytest.raises(ValueError, match=r"same length, got lengths \[3, 4\]"):
        TensorLoader([torch.zeros(3), torch.zeros(4)], batch_size=2)


def test_script_output_has_no_figure_reprs_or_escape_codes(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent("""
        import torch, dlcourse
        data = dlcourse.SyntheticRegressionData(torch.tensor([1.0, 2.0]), 0.5)
        model = dlcourse.SoftmaxRegression  # imported to be sure nothing draws on import
        from tests_model import LinearModel
        dlcourse.Trainer(max_epochs=2).fit(LinearModel(), data)
    """)
    )
    (tmp_path / "tests_model.py").write_text(
        "import torch\nfrom torch import nn\nimport dlcourse\n"
        + textwrap.dedent(__import__("inspect").getsource(LinearModel))
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    output = result.stdout + result.stderr
    assert output.count("epoch ") == 2
    assert "<Figure" not in output and "\x1b" not in output and "\r" not in output


@pytest.mark.slow
def test_notebook_keeps_one_final_figure(tmp_path):
    """The live plot is updated in place: the executed cell holds exactly one image."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(
        nbformat.v4.new_code_cell(
            textwrap.dedent("""
        import torch, dlcourse
        from torch import nn
        class M(dlcourse.Module):
            def __init__(self):
                super().__init__()
                self.net = nn.Linear(2, 1)
            def forward(self, X):
                return self.net(X)
            def loss(self, Y_hat, y):
                return ((Y_hat - y) ** 2).mean()
            def configure_optimizers(self):
                return torch.optim.SGD(self.parameters(), lr=0.1)
        data = dlcourse.SyntheticRegressionData(torch.tensor([1.0, 2.0]), 0.5)
        history = dlcourse.Trainer(max_epochs=3).fit(M(), data)
    """)
        )
    )
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1
    assert sum(o.get("text", "").count("epoch ") for o in outputs) == 3


# -- speed switches (used on a GPU; checked here on the CPU) ---------------------------------
def lenet_accuracy(**switches) -> float:
    """Modernised LeNet, 2 epochs on 6,000 Fashion-MNIST images, from the same seed."""
    dlcourse.set_seed(0)
    data = dlcourse.FashionMNIST(batch_size=128, num_train=6000, num_val=2000)
    model = dlcourse.LeNet(lr=0.1, activation=nn.ReLU, pool=nn.MaxPool2d, batch_norm=True)
    trainer = dlcourse.Trainer(max_epochs=2, verbose=False, board=False, device="cpu", **switches)
    return trainer.fit(model, data).last["val_acc"]


@pytest.mark.slow
def test_bf16_autocast_costs_lenet_at_most_one_point():
    """bf16 rounding changes the trajectory, so the two runs end apart by chance (here,
    on some CPUs, bf16 ends 1.5 points higher); what must hold is that it loses nothing."""
    plain = lenet_accuracy(amp="off", channels_last=False)
    mixed = lenet_accuracy(amp="bf16", channels_last=True)
    assert plain > 0.75, f"the fp32 baseline should learn (reached {plain:.3f})"
    assert mixed >= plain - 0.01, f"bf16 + channels_last {mixed:.4f} vs fp32 {plain:.4f}"


def test_speed_switches_are_off_on_a_cpu_by_default():
    trainer = dlcourse.Trainer(max_epochs=1, device="cpu")
    assert trainer.amp_dtype is None and not trainer.channels_last and not trainer.compile


@pytest.mark.parametrize(
    ("capability", "dtype"),
    [((7, 5), torch.float16), ((8, 0), torch.bfloat16), ((9, 0), torch.bfloat16)],
    ids=["sm75-T4", "sm80-A100", "sm90-H100"],
)
def test_auto_precision_follows_the_compute_capability(monkeypatch, capability, dtype):
    fake_gpu(monkeypatch, capability)
    trainer = dlcourse.Trainer(max_epochs=1)
    assert trainer.device.type == "cuda" and trainer.channels_last
    assert trainer.amp_dtype == dtype


class TinyClassifier(dlcourse.Classifier):
    """Softmax regression written out, with the scratch SGD (as in sections 4.4 and 5.2)."""

    def __init__(self, lr=0.1):
        super().__init__()
        self.lr = lr
        self.W = nn.Parameter(torch.randn(784, 10) * 0.01)
        self.b = nn.Parameter(torch.zeros(10))

    def forward(self, X):
        return X.reshape(len(X), -1) @ self.W + self.b

    def configure_optimizers(self):
        return dlcourse.SGD([self.W, self.b], self.lr)


@pytest.mark.parametrize("amp", ["fp16", "bf16"])
def test_half_precision_trains_scratch_and_concise_classifiers(amp):
    """fp16 needs the gradient scaler, which reads the optimiser's param_groups: the
    scratch SGD has them, so scratch models train in fp16 as torch.optim ones do."""
    data = dlcourse.FashionMNIST(batch_size=256, num_train=2048, num_val=512)
    for model in (TinyClassifier(), dlcourse.SoftmaxRegression(10, lr=0.1)):
        trainer = dlcourse.Trainer(max_epochs=2, verbose=False, board=False, device="cpu", amp=amp)
        history = trainer.fit(model, data)
        assert trainer.autocast_dtype == {"fp16": torch.float16, "bf16": torch.bfloat16}[amp]
        assert trainer.scaler.is_enabled() == (amp == "fp16")
        assert history.last["val_acc"] > 0.6, f"{type(model).__name__}: {history.last}"


def test_regression_stays_float32_whatever_amp_says():
    """bf16 would round predictions near 10 to steps of 0.06, against noise of 0.01."""
    dlcourse.set_seed(0)
    data = regression_data(num_train=1000, num_val=1000, batch_size=32)
    model = dlcourse.LinearRegressionScratch(2, lr=0.1)
    trainer = dlcourse.Trainer(max_epochs=3, verbose=False, board=False, device="cpu", amp="bf16")
    history = trainer.fit(model, data)
    assert trainer.autocast_dtype is None
    assert history.last["val_loss"] < 1e-4, history.last


@pytest.mark.parametrize("make_model", [
    lambda: dlcourse.LinearRegression(lr=0.03),  # lazy: its input size comes from the data
    lambda: dlcourse.WeightDecay(wd=3, lr=0.01),
    lambda: dlcourse.LeNet(lr=0.1),
], ids=["LinearRegression", "WeightDecay", "LeNet"])  # fmt: skip
def test_lazy_models_train_under_channels_last(make_model):
    """channels_last touches every parameter, which a lazy one refuses until it has data."""
    image = make_model().__class__ is dlcourse.LeNet
    data = (
        dlcourse.FashionMNIST(batch_size=64, num_train=128, num_val=64)
        if image
        else regression_data()
    )
    model = make_model()
    trainer = dlcourse.Trainer(max_epochs=1, verbose=False, board=False, device="cpu",
                               channels_last=True)  # fmt: skip
    trainer.fit(model, data)
    assert all(p.is_contiguous() for p in model.parameters()), "layout not restored after fit"


def test_fit_leaves_the_pages_tensors_where_they_were():
    """The Trainer trains on its own copy of the data: the page's object is not moved or
    replaced (on a GPU this is what keeps a page's CPU tensors usable after a fit)."""
    data = dlcourse.FashionMNIST(batch_size=64, num_train=128, num_val=64)
    before = {k: v for k, v in vars(data).items() if isinstance(v, torch.Tensor)}
    model = dlcourse.SoftmaxRegression(10, lr=0.1)
    trainer = dlcourse.Trainer(max_epochs=1, verbose=False, board=False, device="cpu")
    trainer.fit(model, data)
    after = {k: v for k, v in vars(data).items() if isinstance(v, torch.Tensor)}
    assert before.keys() == after.keys()
    assert all(after[k] is before[k] for k in before), "fit replaced the data's tensors"
    assert data.device == torch.device("cpu")
    assert data.train_images.dtype == torch.uint8, "pixels should stay uint8 in memory"


def test_a_minibatch_becomes_float_and_channels_last_on_the_way_in():
    data = dlcourse.FashionMNIST(batch_size=8, num_train=16, num_val=8)
    trainer = dlcourse.Trainer(max_epochs=1, device="cpu", channels_last=True)
    X, y = trainer.prepare_batch(next(iter(data.train_dataloader())))
    assert X.dtype == torch.float32 and X.min() >= 0 and X.max() <= 1
    assert X.is_contiguous(memory_format=torch.channels_last) and y.dtype == torch.int64


def test_environment_turns_a_switch_off(monkeypatch):
    fake_gpu(monkeypatch)
    monkeypatch.setenv("DLCOURSE_AMP", "off")
    monkeypatch.setenv("DLCOURSE_CHANNELS_LAST", "0")
    trainer = dlcourse.Trainer(max_epochs=1, device="cuda")
    assert trainer.amp_dtype is None and not trainer.channels_last


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DLCOURSE_AMP", "half", r"amp \(or DLCOURSE_AMP\) must be 'auto', .* got 'half'"),
        ("DLCOURSE_CHANNELS_LAST", "yes", "DLCOURSE_CHANNELS_LAST='yes' must be 0"),
        ("DLCOURSE_COMPILE", "on", "DLCOURSE_COMPILE='on' must be 0"),
    ],
)
def test_bad_switch_settings_are_named(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message):
        dlcourse.Trainer(max_epochs=1)


def test_smoke_profile_runs_two_minibatches_and_records_the_fit(monkeypatch, tmp_path):
    import json

    record = tmp_path / "fits.jsonl"
    monkeypatch.setenv("DLCOURSE_PROFILE", "smoke")
    monkeypatch.setenv("DLCOURSE_RECORD", str(record))
    data = dlcourse.SyntheticRegressionData(w=[2.0, -3.4], b=4.2, num_train=640, batch_size=32)
    model = dlcourse.LinearRegression(lr=0.03)
    history = dlcourse.Trainer(max_epochs=10, verbose=False, board=False).fit(model, data)
    assert len(history) == 1  # one epoch, whatever max_epochs says
    (fit,) = [json.loads(line) for line in record.read_text().splitlines()]
    assert fit["max_epochs"] == 10 and fit["batch_size"] == 32 and fit["full_examples"] == 640
    assert fit["seconds_per_batch"] > 0 and fit["peak_memory_mb"] > 0
    assert history[0]["examples_per_sec"] > 0


def test_smoke_profile_loads_only_the_minibatches_it_takes(monkeypatch):
    monkeypatch.setenv("DLCOURSE_PROFILE", "smoke")
    data = dlcourse.FashionMNIST(batch_size=128, resize=64)
    assert data.nominal_num_train == 60000 and data.nominal_num_val == 10000
    assert data.train_images.shape == (256, 1, 64, 64) and len(data.val_labels) == 256


@pytest.mark.parametrize(
    ("make_model", "expected"),
    [
        (lambda: dlcourse.LeNet(), True),
        (lambda: dlcourse.LeNet(activation=nn.ReLU, pool=nn.MaxPool2d, batch_norm=True), False),
        (lambda: dlcourse.NiN(), True),
        (lambda: dlcourse.MLP(num_hiddens=8), False),
    ],
    ids=["LeNet", "LeNet-BN", "NiN", "MLP"],
)
def test_on_a_cpu_the_model_decides_the_memory_layout(make_model, expected):
    trainer = dlcourse.Trainer(max_epochs=1, device="cpu", verbose=False, board=False)
    trainer.prepare_model(make_model())
    assert trainer.channels_last is expected
    forced = dlcourse.Trainer(max_epochs=1, device="cpu", channels_last=False)
    forced.prepare_model(make_model())
    assert forced.channels_last is False  # an explicit setting wins over the model's


def test_a_channels_last_fit_on_a_cpu_hands_back_an_ordinary_model():
    data = dlcourse.FashionMNIST(batch_size=64, num_train=256, num_val=64)
    model = dlcourse.LeNet(lr=0.1)
    dlcourse.Trainer(max_epochs=1, device="cpu", verbose=False, board=False).fit(model, data)
    assert all(p.is_contiguous() for p in model.parameters())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator only")
def test_freed_memory_is_kept_for_the_next_step_on_a_cpu():
    """Without it, each 2 MiB tensor comes back from the kernel as 512 fresh pages."""
    resource = pytest.importorskip("resource")
    training._reuse_freed_memory()
    torch.ones(2**19)  # a first allocation may grow the heap once
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(50):
        torch.ones(2**19)  # 2 MiB, freed at once
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 50, f"{faults} page faults for 50 allocations of 2 MiB"
