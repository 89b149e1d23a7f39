"""The training framework of section 3.2: ``Module``, ``DataModule``, ``Trainer`` and ``SGD``,
plus ``Classifier`` (section 4.3), which adds accuracy to the validation metrics.

Roles stay apart: a model computes its outputs, loss and validation metrics; a data module
hands out minibatches; the Trainer owns the loop, the device and the per-epoch ``History``.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import dataclasses
import json
import math
import os
import resource
import sys
import time

import torch
from torch import nn
from tqdm import tqdm

from . import profile
from ._checks import check_choice, check_int, check_lr, check_number
from .plotting import ProgressBoard, in_notebook
from .tensors import synchronize, try_gpu


class Module(nn.Module):
    """Base class of the book's models.

    A subclass defines ``forward`` and ``loss(Y_hat, y)`` and sets ``self.lr``; the default
    ``configure_optimizers()`` is minibatch SGD at ``self.lr`` over every parameter, and a
    model overrides it only when it needs another optimiser. A batch is a tuple
    ``(*inputs, y)``: every element but the last goes into ``forward``.

    ``mixed_precision`` says whether the Trainer may run the model under autocast on a GPU.
    It is off here: a regression's outputs need float32 (bf16 rounds a prediction near 10
    to steps of about 0.06, far coarser than the label noise of section 3.3), and a small
    model gains no speed from half precision. ``Classifier`` turns it on.

    ``channels_last_on_cpu`` says whether the Trainer trains the model in the channels-last
    memory layout on a CPU (on a GPU it always does, see ``Trainer``). oneDNN's convolutions
    are faster that way, but PyTorch's batch normalisation over a few channels is slower, so
    each network says what was measured for it: the CNNs of chapter 8 and the textbook's
    LeNet turn it on (one training step 1.02x to 1.4x faster), LeNet with batch
    normalisation keeps it off (0.6x).
    """

    mixed_precision = False
    channels_last_on_cpu = False

    def loss(self, Y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """``torch.optim.SGD`` over all parameters with the learning rate ``self.lr``."""
        if not hasattr(self, "lr"):
            raise TypeError(
                f"{type(self).__name__} has no learning rate: set self.lr in __init__ (the "
                "default configure_optimizers() is SGD at self.lr), or define "
                "configure_optimizers() yourself"
            )
        return torch.optim.SGD(self.parameters(), lr=check_lr(self.lr))

    def training_step(self, batch) -> torch.Tensor:
        """Mean loss of one minibatch."""
        return self.loss(self(*batch[:-1]), batch[-1])

    def validation_step(self, batch) -> dict[str, torch.Tensor]:
        """Validation metrics of one minibatch, each a mean over its examples."""
        return {"loss": self.loss(self(*batch[:-1]), batch[-1])}


class Classifier(Module):
    """A model whose outputs are class scores (logits); validation also reports accuracy.

    Classifiers may train in mixed precision on a GPU (``mixed_precision = True``): the
    convolutions and wide layers of chapters 5-8 are where half precision pays, and an
    argmax does not mind its rounding. A subclass sets it to False to stay in float32.
    """

    mixed_precision = True

    def loss(self, Y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # Logits go straight into cross_entropy, which applies log-softmax stably.
        return nn.functional.cross_entropy(Y_hat.reshape(-1, Y_hat.shape[-1]), y.reshape(-1))

    @staticmethod
    def accuracy(Y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Fraction of examples whose highest score is the true class (a 0-d tensor)."""
        preds = Y_hat.reshape(-1, Y_hat.shape[-1]).argmax(dim=1)
        return (preds == y.reshape(-1)).float().mean()

    def validation_step(self, batch) -> dict[str, torch.Tensor]:
        Y_hat = self(*batch[:-1])
        return {"loss": self.loss(Y_hat, batch[-1]), "acc": self.accuracy(Y_hat, batch[-1])}


class DataModule:
    """Base class of the book's data sets: ``train_dataloader()`` and ``val_dataloader()``.

    ``to(device)`` moves every tensor attribute to ``device``. The Trainer calls it on a
    shallow copy of the data module, so minibatches are sliced where the model trains while
    the page's own object keeps its tensors where the page made them (the CPU).
    """

    def __init__(self, batch_size: int = 32):
        self.batch_size = check_int("batch_size", batch_size)
        self.device = torch.device("cpu")

    def get_dataloader(self, train: bool):
        raise NotImplementedError

    def train_dataloader(self):
        return self.get_dataloader(train=True)

    def val_dataloader(self):
        return self.get_dataloader(train=False)

    def to(self, device: torch.device | str) -> DataModule:
        """Move every tensor attribute to ``device`` and return ``self``."""
        self.device = torch.device(device)
        for key, value in vars(self).items():
            if isinstance(value, torch.Tensor):
                setattr(self, key, value.to(self.device))
        return self

    def get_tensorloader(self, tensors, train: bool, indices=slice(0, None)) -> TensorLoader:
        """Minibatches of ``tensors`` (sliced at ``indices``), shuffled when ``train``."""
        return TensorLoader([t[indices] for t in tensors], self.batch_size, shuffle=train)


class TensorLoader:
    """Iterate over minibatches sliced from tensors already in memory (on any device).

    One ``randperm`` per epoch replaces a sampler, a collate function and worker processes:
    each minibatch is one indexing operation. ``transform`` is applied to the first tensor
    of every minibatch (e.g. to turn uint8 pixels into floats on the GPU).
    """

    def __init__(self, tensors, batch_size: int, shuffle: bool = False, transform=None):
        check_int("batch_size", batch_size)
        sizes = {len(t) for t in tensors}
        if len(sizes) != 1:
            raise ValueError(f"tensors must have the same length, got lengths {sorted(sizes)}")
        self.tensors = list(tensors)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.transform = transform
        self.num_examples = sizes.pop()

    def __len__(self) -> int:
        return math.ceil(self.num_examples / self.batch_size)

    def __iter__(self):
        n, device = self.num_examples, self.tensors[0].device
        order = torch.randperm(n, device=device) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                batch = [t[start : start + self.batch_size] for t in self.tensors]
            else:
                idx = order[start : start + self.batch_size]
                # index_select gathers rows about 3x faster than t[idx] on a CPU
                batch = [t.index_select(0, idx) for t in self.tensors]
            if self.transform is not None:
                batch[0] = self.transform(batch[0])
            yield tuple(batch)


class SGD:
    """Minibatch stochastic gradient descent written out (section 3.4): p <- p - lr * grad.

    ``param_groups`` lists the parameters the way ``torch.optim`` optimisers do; it is there
    only so that the gradient scaler of fp16 training (``torch.amp.GradScaler``, used by
    the Trainer on older GPUs) can find the gradients to unscale before ``step``.
    """

    def __init__(self, params, lr: float):
        self.params = list(params)
        self.lr = check_lr(lr)
        self.param_groups = [{"params": self.params}]

    @torch.no_grad()
    def step(self) -> None:
        for param in self.params:
            if param.grad is not None:
                param -= self.lr * param.grad

    def zero_grad(self) -> None:
        for param in self.params:
            if param.grad is not None:
                param.grad.zero_()


@dataclasses.dataclass
class EpochResult:
    """What ``Trainer.fit_epoch`` measured in one pass over the training data."""

    train_loss: float  # mean loss per example
    num_examples: int
    batch_losses: torch.Tensor  # one mean loss per minibatch (on the CPU), for the board


class History(list):
    """Per-epoch metrics returned by ``Trainer.fit``: a list of dicts, one per epoch, each
    with ``epoch``, ``train_loss``, the ``val_*`` metrics, ``seconds`` and
    ``examples_per_sec``. Every ``fit`` starts a fresh one, so its epochs count from 1.

    ``history["val_acc"]`` gives one metric as a list over epochs; ``history.last`` the
    final epoch's dict.
    """

    def __getitem__(self, key):
        if isinstance(key, str):
            if not self or key not in self[-1]:
                known = sorted(self[-1]) if self else []
                raise KeyError(f"no metric {key!r}; this history has {known}")
            return [row[key] for row in self]
        return super().__getitem__(key)

    @property
    def last(self) -> dict:
        return super().__getitem__(-1)


class Trainer:
    """Train a ``Module`` on a ``DataModule``: ``Trainer(max_epochs=10).fit(model, data)``.

    It trains on the first GPU when there is one (else the CPU), clips gradients when
    ``gradient_clip_val > 0``, prints one line of metrics per epoch, draws the curves on a
    ``ProgressBoard`` in notebooks, shows a ``tqdm`` progress bar on a terminal, and returns
    the ``History`` of this fit (a second ``fit`` starts a new one at epoch 1, and
    ``trainer.history`` is always the latest). The host waits for the device once per
    epoch, not once per batch.

    Where tensors live: a page works with CPU tensors, and ``fit`` leaves it that way. The
    Trainer slices minibatches from its own copy of the data on the training device (the
    data module passed in keeps its tensors), and when the fit ends, even with an error,
    the model goes back to the device it came from, in the ordinary memory layout. So a
    page written on a CPU runs unchanged on a GPU: ``model(X)`` after a fit needs no
    ``.to(device)`` and its output no ``.cpu()``.

    On a GPU it also uses what the hardware offers, each switch with an off position (and
    an environment variable, so a whole book build can be run without it):

    * ``amp``: mixed precision, for models whose ``mixed_precision`` is True (classifiers;
      regressions stay float32, see ``Module``). ``"auto"`` is bf16 autocast on a GPU that
      computes bf16 natively (compute capability 8.0 and newer: A100, H100, L4), fp16
      autocast with a gradient scaler on an older one (the T4 of Colab, sm_75, which would
      only emulate bf16), and off on a CPU; or ``"bf16"``, ``"fp16"``, ``"off"``
      (``DLCOURSE_AMP``). Forced on a CPU, fp16 and bf16 run there too (slowly): that is
      how the tests try the GPU's precision without one.
    * ``channels_last``: NHWC memory layout for 4-d inputs, which tensor cores prefer;
      ``None`` is on for CUDA and, on a CPU, follows the model's ``channels_last_on_cpu``
      (see ``Module``) (``DLCOURSE_CHANNELS_LAST=0|1``). A model with lazy layers
      first sees one unshuffled batch so that its parameters exist before the layout
      changes.
    * ``compile``: ``torch.compile`` the model; off by default, since compiling takes tens
      of seconds and pays only for long runs (``DLCOURSE_COMPILE=0|1``).
    * ``cudnn.benchmark`` is switched on for CUDA (convolution algorithms picked per shape).

    On a CPU it asks the C library's allocator to keep freed memory for the next step
    (``_reuse_freed_memory``).

    In the ``smoke`` profile a fit runs one epoch of ``profile.smoke_batches()`` minibatches.
    With ``DLCOURSE_RECORD=path.jsonl`` set, every fit appends one line with its shapes, its
    seconds per minibatch and the peak memory of that fit (``code/tools/smoke.py`` and
    ``code/tools/gpu_run.py`` read them).
    """

    def __init__(
        self,
        max_epochs: int,
        gradient_clip_val: float = 0.0,
        device: torch.device | str | None = None,
        verbose: bool = True,
        board: bool | None = None,
        points_per_epoch: int = 4,
        check_every_batch: bool | None = None,
        amp: str = "auto",
        channels_last: bool | None = None,
        compile: bool | None = None,
    ):
        self.max_epochs = check_int("max_epochs", max_epochs)
        self.gradient_clip_val = check_number(
            "gradient_clip_val", gradient_clip_val, strict=False, fix="use 0 for no clipping"
        )
        self.device = torch.device(device) if device is not None else try_gpu()
        self.verbose = verbose
        show_board = in_notebook() if board is None else board
        self.board = ProgressBoard(xlabel="epoch", display=show_board)
        self.points_per_epoch = check_int("points_per_epoch", points_per_epoch)
        self.check_every_batch = check_every_batch  # None: only on the CPU, where it is free
        # A text progress bar only on an interactive terminal: scripts and logs stay clean.
        self.progress_bar = verbose and not in_notebook() and sys.stderr.isatty()
        self.amp_dtype = _amp_dtype(os.environ.get("DLCOURSE_AMP", amp), self.device)
        self.autocast_dtype = None  # amp_dtype, or None for a model that stays float32
        cuda = self.device.type == "cuda"
        self.channels_last_setting = channels_last  # None: decided per model in fit
        self.channels_last = _env_switch("DLCOURSE_CHANNELS_LAST", channels_last, default=cuda)
        self.compile = _env_switch("DLCOURSE_COMPILE", compile, default=False)
        self.max_batches = profile.smoke_batches()  # None: every minibatch
        self.history = History()

    # -- set-up -----------------------------------------------------------------------
    @staticmethod
    def check_model(model) -> None:
        if getattr(type(model), "loss", None) is Module.loss:
            raise TypeError(
                f"{type(model).__name__} does not define loss(); "
                "add a loss method to the class (see section 3.2)"
            )

    def prepare_data(self, data: DataModule) -> None:
        """Loaders over a copy of ``data`` on the training device (``data`` is not moved)."""
        on_device = copy.copy(data).to(self.device) if isinstance(data, DataModule) else data
        self.train_dataloader = on_device.train_dataloader()
        self.val_dataloader = on_device.val_dataloader()
        self.num_train_batches = len(self.train_dataloader)

    def prepare_model(self, model: Module) -> None:
        self.check_model(model)
        model.to(self.device)
        on_cpu = self.device.type == "cpu"
        default = self.device.type == "cuda" or (on_cpu and model.channels_last_on_cpu)
        self.channels_last = _env_switch(
            "DLCOURSE_CHANNELS_LAST", self.channels_last_setting, default=default
        )
        if on_cpu:
            _reuse_freed_memory()
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # pick the fastest algorithm per shape
            torch.cuda.reset_peak_memory_stats(self.device)  # each fit records its own peak
        if self.channels_last:
            self._materialize(model)
            model.to(memory_format=torch.channels_last)
        self.model = model
        if self.compile:
            model.compile()  # in place: later calls of model(...) run the compiled graph
        # Half precision only where the model allows it (see Module.mixed_precision).
        allowed = getattr(model, "mixed_precision", False)
        self.autocast_dtype = self.amp_dtype if allowed else None
        # fp16 needs its loss scaled so that small gradients do not flush to zero; bf16 not.
        fp16 = self.autocast_dtype == torch.float16
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=fp16)
        # On a CPU, reading a loss costs no waiting, so each one is checked at once; on a
        # GPU that would stall the queue every step, so losses are checked once per epoch.
        if self.check_every_batch is None:
            self.check_every_batch = self.device.type == "cpu"

    @torch.no_grad()
    def _materialize(self, model: Module) -> None:
        """Give lazy layers their parameters with one forward pass on an unshuffled batch.

        Changing the memory format touches every parameter, which an uninitialised lazy
        parameter refuses. The pass runs in evaluation mode (no dropout draws, no batch-norm
        statistics updated) on the first validation batch, or the first training examples.
        """
        if not any(nn.parameter.is_lazy(p) for p in model.parameters()):
            return
        loader = self.val_dataloader or self.train_dataloader
        if isinstance(loader, TensorLoader) and loader.shuffle:
            loader = TensorLoader(loader.tensors, loader.batch_size, transform=loader.transform)
        batch = self.prepare_batch(next(iter(loader)))
        was_training = model.training
        model.eval()
        model(*batch[:-1])
        model.train(was_training)

    def _release(self, model: Module, home: torch.device) -> None:
        """Send the model back where it came from, in the ordinary layout; drop the copies."""
        if self.channels_last:
            model.to(memory_format=torch.contiguous_format)
        model.to(home)
        self.train_dataloader = self.val_dataloader = None

    def prepare_batch(self, batch):
        """Move a minibatch to the training device (a no-op for in-memory data already there)."""
        batch = tuple(t.to(self.device, non_blocking=True) for t in batch)
        if self.channels_last and batch[0].dim() == 4:
            batch = (batch[0].contiguous(memory_format=torch.channels_last), *batch[1:])
        return batch

    def autocast(self):
        """The mixed-precision context of a forward pass (a no-op when ``amp`` is off)."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    # -- the loop ---------------------------------------------------------------------
    def fit(self, model: Module, data: DataModule) -> History:
        home = _home_device(model)
        self.prepare_data(data)
        try:
            self.prepare_model(model)
            self.optim = model.configure_optimizers()
            self.max_batches = profile.smoke_batches()  # None: every minibatch
            self.history = History()  # each fit counts its epochs from 1
            epochs = 1 if self.max_batches else self.max_epochs
            for epoch in range(1, epochs + 1):
                self.epoch = epoch
                start = time.perf_counter()
                train = self.fit_epoch()
                val = self.validate()
                synchronize(self.device)
                seconds = time.perf_counter() - start
                row = {
                    "epoch": self.epoch,
                    "train_loss": train.train_loss,
                    **val,
                    "seconds": seconds,
                    "examples_per_sec": train.num_examples / seconds,
                }
                self.history.append(row)
                self.report(row, train.batch_losses)
            self._record(data)
        finally:
            self._release(model, home)
        return self.history

    def fit_epoch(self) -> EpochResult:
        """One pass over the training data; metrics stay on the device until the end."""
        self.model.train()
        losses = []  # 0-d tensors on the device: no host synchronisation per batch
        sizes = []
        self.batch_seconds = []  # wall time of each minibatch, kept only for a smoke run
        batches = tqdm(
            self.train_dataloader,
            desc=f"epoch {self.epoch}/{self.max_epochs}",
            total=min(self.num_train_batches, self.max_batches or self.num_train_batches),
            leave=False,  # the epoch's line of metrics replaces the bar
            disable=not self.progress_bar,
        )
        for batch_idx, batch in enumerate(batches, start=1):
            if self.max_batches and batch_idx > self.max_batches:
                break
            tik = time.perf_counter()
            batch = self.prepare_batch(batch)
            with self.autocast():
                loss = self.model.training_step(batch)
            if self.check_every_batch and not math.isfinite(loss.item()):
                self._raise_non_finite(batch_idx, loss.item())
            self.optim.zero_grad()
            self.scaler.scale(loss).backward()
            if self.gradient_clip_val > 0:
                self.scaler.unscale_(self.optim)
                nn.utils.clip_grad_norm_(self.model.parameters(), self.gradient_clip_val)
            self.scaler.step(self.optim)
            self.scaler.update()
            losses.append(loss.detach())
            sizes.append(len(batch[-1]))
            if self.max_batches:
                synchronize(self.device)
                self.batch_seconds.append(time.perf_counter() - tik)
        batches.close()  # wipes the bar before the epoch's line of metrics is printed
        batch_losses = torch.stack(losses).float().cpu()  # the epoch's one synchronisation
        bad = (~torch.isfinite(batch_losses)).nonzero()
        if len(bad):
            first = int(bad[0])
            self._raise_non_finite(first + 1, batch_losses[first].item())
        weights = torch.tensor(sizes, dtype=torch.float32)
        train_loss = float((batch_losses * weights).sum() / weights.sum())
        return EpochResult(train_loss, int(weights.sum()), batch_losses)

    def _raise_non_finite(self, batch_idx: int, value: float):
        raise FloatingPointError(
            f"the training loss became {value} in epoch {self.epoch}, batch {batch_idx}; "
            "training stopped. Lower the learning rate, set gradient_clip_val, or check "
            "the data for NaN/inf values"
        )

    @torch.no_grad()
    def validate(self) -> dict:
        """Validation metrics averaged over examples (not over batches: the last is smaller)."""
        if self.val_dataloader is None:
            return {}
        self.model.eval()
        totals: dict[str, torch.Tensor] = {}
        count = 0
        for batch_idx, batch in enumerate(self.val_dataloader, start=1):
            if self.max_batches and batch_idx > self.max_batches:
                break
            batch = self.prepare_batch(batch)
            n = len(batch[-1])
            with self.autocast():
                metrics = self.model.validation_step(batch)
            for key, value in metrics.items():
                totals[key] = totals.get(key, 0) + value.detach().float() * n
            count += n
        return {f"val_{key}": float(total) / count for key, total in totals.items()}

    # -- reporting --------------------------------------------------------------------
    def report(self, row: dict, batch_losses: torch.Tensor) -> None:
        if self.verbose:
            metrics = "  ".join(
                f"{k} {v:.4f}" for k, v in row.items() if k.startswith(("train_", "val_"))
            )
            print(
                f"epoch {row['epoch']:>3}/{self.max_epochs}  {metrics}  "
                f"{row['examples_per_sec']:,.0f} examples/s  ({self.device.type})",
                file=sys.stdout,
                flush=True,
            )
        # A few smoothed training-loss points per epoch, then the validation metrics.
        chunks = torch.tensor_split(batch_losses, min(self.points_per_epoch, len(batch_losses)))
        for i, chunk in enumerate(chunks):
            x = row["epoch"] - 1 + (i + 1) / len(chunks)
            self.board.draw(x, float(chunk.mean()), "train_loss", show=False)
        for key, value in row.items():
            if key.startswith("val_"):
                self.board.draw(row["epoch"], value, key, show=False)
        self.board.show()

    def _record(self, data: DataModule) -> None:
        """Append this fit's cost to ``$DLCOURSE_RECORD`` (JSON lines), if it is set."""
        path = os.environ.get("DLCOURSE_RECORD")
        if not path:
            return
        steady = self.batch_seconds[1:] or self.batch_seconds  # the first one warms up
        if self.device.type == "cuda":
            peak_mb = torch.cuda.max_memory_allocated(self.device) / 2**20
        else:  # the process's peak resident memory (Linux reports KiB)
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        batch_size = getattr(data, "batch_size", None)
        full_examples = getattr(data, "nominal_num_train", None) or getattr(
            self.train_dataloader, "num_examples", None
        )
        val_examples = getattr(data, "nominal_num_val", None) or getattr(
            self.val_dataloader, "num_examples", 0
        )
        last = self.history[-1] if self.history else {}
        record = {
            "model": type(self.model).__name__,
            "profile": profile.name(),
            "device": str(self.device),
            "batch_size": batch_size,
            "max_epochs": self.max_epochs,
            "epochs": len(self.history),
            "full_examples": full_examples,
            "full_val_examples": val_examples,
            "flop_per_example": forward_flop_per_example(self.model, self.train_dataloader),
            "seconds_per_batch": sum(steady) / len(steady) if steady else None,
            "peak_memory_mb": round(peak_mb, 1),
            "seconds": sum(row["seconds"] for row in self.history),
            "examples_per_sec": last.get("examples_per_sec"),
            "val_acc": last.get("val_acc"),
        }
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


def forward_flop_per_example(model: nn.Module, loader) -> float | None:
    """Floating-point operations of one example's forward pass (a multiply-add counts 2),
    counted by ``torch.utils.flop_counter`` on a copy of the model on the ``meta`` device,
    which has shapes but no data, so nothing is computed; None if the model cannot be
    copied there. Training costs about three times this (forward, and a backward pass of
    about twice the work), which is how the cost projections of ``dlcourse.costs`` use it.
    """
    from torch.utils.flop_counter import FlopCounterMode

    try:
        batch = next(iter(loader))
        inputs = [torch.empty((1, *t.shape[1:]), device="meta") for t in batch[:-1]]
        shadow = copy.deepcopy(model).to("meta")
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            shadow(*inputs)
    except Exception:  # e.g. a compiled model, or an operation with no meta kernel
        return None
    return float(counter.get_total_flops())


def _reuse_freed_memory() -> None:
    """Ask the C library's allocator (glibc's malloc, on Linux) to keep freed memory.

    Every training step on a CPU allocates and frees the same activations and gradients,
    most of them a few hundred KiB to a few MiB. By default glibc hands blocks that large to
    the operating system when they are freed and asks for fresh pages on the next step,
    which costs a page fault per 4 KiB: we counted 900 to 3,300 faults per LeNet step and
    about 15% of its time. Raising the two thresholds keeps those blocks for reuse; the
    price is that the process does not shrink after a fit. Elsewhere this does nothing.
    """
    global _MEMORY_KEPT
    if _MEMORY_KEPT or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): leave the allocator alone
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's <malloc.h>
    mallopt(M_MMAP_THRESHOLD, 32 * 2**20)  # blocks up to 32 MiB come from the reusable heap
    mallopt(M_TRIM_THRESHOLD, 2**30)  # keep up to 1 GiB of freed heap
    _MEMORY_KEPT = True


_MEMORY_KEPT = False


def _env_switch(variable: str, value: bool | None, default: bool) -> bool:
    """An on/off setting: the environment variable wins, then ``value``, then ``default``."""
    setting = os.environ.get(variable)
    if setting is not None:
        if setting not in ("0", "1"):
            raise ValueError(f"{variable}={setting!r} must be 0 (off) or 1 (on)")
        return setting == "1"
    return default if value is None else bool(value)


def _home_device(model: nn.Module) -> torch.device:
    """The device of a model's first parameter or buffer (the CPU for a model with none)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def _amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``amp`` ("auto", "bf16", "fp16" or "off") on ``device``.

    "auto" asks for the compute capability rather than ``torch.cuda.is_bf16_supported()``,
    which by default also answers True where bf16 is only emulated (sm_75, the T4): bf16
    from capability 8.0 on, fp16 (with the Trainer's gradient scaler) below it.
    """
    check_choice("amp (or DLCOURSE_AMP)", amp, ("auto", "bf16", "fp16", "off"))
    if amp == "off" or (amp == "auto" and device.type != "cuda"):
        return None
    if amp == "auto":
        native_bf16 = torch.cuda.get_device_capability(device) >= (8, 0)
        return torch.bfloat16 if native_bf16 else torch.float16
    return torch.bfloat16 if amp == "bf16" else torch.float16
