"""dlcourse: the companion package of the COSE474 course book (Dive into Deep Learning, ch. 2-8).

Each module serves one topic of the course; the public names are re-exported here so that
pages can write ``dlcourse.Trainer`` or ``from dlcourse import Trainer``. Importing the
package changes no global state: pages call ``dlcourse.set_seed`` themselves.
"""

from . import costs, profile
from .autograd import check_grad, derivative, numerical_grad, plot_function_and_derivative
from .batch_norm import BatchNorm, BNLeNet, BNLeNetScratch, batch_norm
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
from .costs import expected_cost
from .data import FashionMNIST, SyntheticRegressionData, write_house_tiny_csv
from .densenet import DenseBlock, DenseNet, conv_block, transition_block
from .dropout import DropoutMLP, DropoutMLPScratch, dropout_layer
from .kaggle_house import KaggleHouse, k_fold_data, kaggle_house_files, log_rmse
from .linear_regression import LinearRegression, LinearRegressionScratch
from .mlp import MLP, MLPScratch, relu
from .modern_cnn import VGG, AlexNet, GoogLeNet, Inception, NiN, nin_block, vgg_block
from .plotting import ProgressBoard, plot, show_images
from .regnet import AnyNet, RegNetX32
from .resnet import Residual, ResNet, ResNet18, ResNeXtBlock
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
from .weight_decay import WeightDecay, WeightDecayData, WeightDecayScratch, l2_penalty

__version__ = "2026.11.0"

__all__ = [
    "AlexNet",
    "AnyNet",
    "batch_norm",
    "BatchNorm",
    "BNLeNet",
    "BNLeNetScratch",
    "check_grad",
    "Classifier",
    "Conv2D",
    "conv_block",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "costs",
    "cross_entropy",
    "DataModule",
    "DenseBlock",
    "DenseNet",
    "derivative",
    "describe",
    "dropout_layer",
    "DropoutMLP",
    "DropoutMLPScratch",
    "expected_cost",
    "FashionMNIST",
    "float32_fields",
    "GoogLeNet",
    "History",
    "Inception",
    "init_cnn",
    "init_cnn_kaiming",
    "k_fold_data",
    "kaggle_house_files",
    "KaggleHouse",
    "l2_penalty",
    "layer_summary",
    "LeNet",
    "LinearRegression",
    "LinearRegressionScratch",
    "log_rmse",
    "log_softmax",
    "min_input_size",
    "MLP",
    "MLPScratch",
    "Module",
    "NiN",
    "nin_block",
    "num_gpus",
    "num_params",
    "numerical_grad",
    "plot",
    "plot_function_and_derivative",
    "pool2d",
    "profile",
    "ProgressBoard",
    "RegNetX32",
    "relu",
    "Residual",
    "ResNet",
    "ResNet18",
    "ResNeXtBlock",
    "set_seed",
    "SGD",
    "shares_storage",
    "show_images",
    "softmax",
    "SoftmaxRegression",
    "SoftmaxRegressionScratch",
    "SyntheticRegressionData",
    "TensorLoader",
    "Timer",
    "Trainer",
    "transition_block",
    "try_all_gpus",
    "try_gpu",
    "VGG",
    "vgg_block",
    "WeightDecay",
    "WeightDecayData",
    "WeightDecayScratch",
    "write_house_tiny_csv",
]
