"""dlcourse: the companion package of the COSE474 course book (Dive into Deep Learning, ch. 2-8).

Each module serves one topic of the course; the public names are re-exported here so that
pages can write ``dlcourse.Trainer`` or ``from dlcourse import Trainer``. Importing the
package changes no global state: pages call ``dlcourse.set_seed`` themselves.
"""

from . import profile
from .autograd import check_grad, derivative, numerical_grad, plot_function_and_derivative
from .cnn import (
    Conv2D,
    LeNet,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    init_cnn,
    init_cnn_kaiming,
    layer_summary,
    min_input_size,
    num_params,
    pool2d,
)
from .data import FashionMNIST, SyntheticRegressionData, write_house_tiny_csv
from .dropout import DropoutMLP, DropoutMLPScratch, dropout_layer
from .linear_regression import LinearRegression, LinearRegressionScratch
from .mlp import MLP, MLPScratch, relu
from .modern_cnn import VGG, AlexNet, GoogLeNet, Inception, NiN, nin_block, vgg_block
from .plotting import ProgressBoard, plot, show_images
from .softmax_regression import (
    SoftmaxRegression,
    SoftmaxRegressionScratch,
    cross_entropy,
    log_softmax,
    softmax,
)
from .tensors import (
    Timer,
    describe,
    float32_fields,
    num_gpus,
    set_seed,
    shares_storage,
    try_all_gpus,
    try_gpu,
)
from .training import SGD, Classifier, DataModule, History, Module, TensorLoader, Trainer

__version__ = "2026.11.0"

__all__ = [
    "SGD",
    "VGG",
    "AlexNet",
    "Classifier",
    "Conv2D",
    "DataModule",
    "DropoutMLP",
    "DropoutMLPScratch",
    "FashionMNIST",
    "GoogLeNet",
    "History",
    "Inception",
    "LeNet",
    "LinearRegression",
    "LinearRegressionScratch",
    "MLP",
    "MLPScratch",
    "Module",
    "NiN",
    "ProgressBoard",
    "SoftmaxRegression",
    "SoftmaxRegressionScratch",
    "SyntheticRegressionData",
    "TensorLoader",
    "Timer",
    "Trainer",
    "check_grad",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "cross_entropy",
    "derivative",
    "describe",
    "dropout_layer",
    "float32_fields",
    "init_cnn",
    "init_cnn_kaiming",
    "layer_summary",
    "log_softmax",
    "min_input_size",
    "nin_block",
    "num_gpus",
    "numerical_grad",
    "num_params",
    "plot",
    "plot_function_and_derivative",
    "profile",
    "pool2d",
    "relu",
    "set_seed",
    "shares_storage",
    "show_images",
    "softmax",
    "try_all_gpus",
    "try_gpu",
    "write_house_tiny_csv",
    "vgg_block",
]
