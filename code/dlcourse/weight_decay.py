"""Weight decay (section 3.7): the squared-norm penalty ``l2_penalty``, the high-dimensional
regression data of the section (``WeightDecayData``), linear regression with the penalty
added to its loss (``WeightDecayScratch``) and with the optimiser's ``weight_decay``
(``WeightDecay``).
"""

from __future__ import annotations

import torch

from ._checks import check_int, check_number, check_tensor
from .data import SyntheticRegressionData
from .linear_regression import LinearRegression, LinearRegressionScratch


def l2_penalty(w: torch.Tensor) -> torch.Tensor:
    """Half the squared L2 norm of ``w``, sum(w^2) / 2 (a 0-d tensor); its gradient is ``w``."""
    check_tensor("w", w, floating=True)
    return (w**2).sum() / 2


class WeightDecayData(SyntheticRegressionData):
    """The data of section 3.7: y = 0.05 + sum_i 0.01 x_i + noise, with few training examples.

    Every one of the ``num_inputs`` true weights is 0.01, the bias 0.05 and the noise has
    standard deviation 0.01. With far fewer training examples than inputs (20 against 200 in
    the textbook), plain linear regression can fit the training set exactly and overfits.
    """

    def __init__(
        self,
        num_train: int = 20,
        num_val: int = 100,
        num_inputs: int = 200,
        batch_size: int = 5,
        seed: int | None = None,
    ):
        check_int("num_inputs", num_inputs)
        w = torch.full((num_inputs,), 0.01)  # (num_inputs,)
        super().__init__(
            w,
            0.05,
            noise=0.01,
            num_train=num_train,
            num_val=num_val,
            batch_size=batch_size,
            seed=seed,
        )
        self.num_inputs = num_inputs


class WeightDecayScratch(LinearRegressionScratch):
    """Linear regression from scratch whose training loss adds ``lambd * l2_penalty(w)``.

    Only the weights are penalised, not the bias. Validation reports the squared loss
    alone, so that runs with different ``lambd`` are compared on the same measure.
    """

    def __init__(self, num_inputs: int, lambd: float, lr: float, sigma: float = 0.01):
        check_number("lambd", lambd, strict=False, fix="use lambd=0 for no decay")
        super().__init__(num_inputs, lr, sigma)
        self.lambd = lambd

    def loss(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Squared loss plus ``lambd`` times the penalty on the weights."""
        return super().loss(y_hat, y) + self.lambd * l2_penalty(self.w)

    def validation_step(self, batch) -> dict[str, torch.Tensor]:
        return {"loss": super().loss(self(*batch[:-1]), batch[-1])}  # without the penalty


class WeightDecay(LinearRegression):
    """Concise weight decay: ``torch.optim.SGD`` with ``weight_decay=wd`` on the weight only.

    Two parameter groups give the weight a decay of ``wd`` (the optimiser adds ``wd * w`` to
    its gradient, the gradient of ``wd * l2_penalty(w)``) and leave the bias undecayed.
    """

    def __init__(self, wd: float, lr: float, num_inputs: int | None = None):
        check_number("wd", wd, strict=False, fix="use wd=0 for no decay")
        super().__init__(lr, num_inputs)
        self.wd = wd

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(
            [
                {"params": self.net.weight, "weight_decay": self.wd},
                {"params": self.net.bias},  # the default weight_decay=0: no decay
            ],
            lr=self.lr,
        )
