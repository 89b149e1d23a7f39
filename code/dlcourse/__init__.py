"""dlcourse: the companion package of the COSE474 course book (Dive into Deep Learning, ch. 2-8).

Each module serves one topic of the course; the public names are re-exported here so that
pages can write ``dlcourse.Trainer`` or ``from dlcourse import Trainer``. Importing the
package changes no global state: pages call ``dlcourse.set_seed`` themselves.

Module map (one module per idea, named after it; tests mirror it in ``tests/test_<module>.py``):

    tensors             tensor basics, devices and their names, seeding, Timer (chapter 2,
                        every training page)
    autograd            derivatives checked against finite differences (2.4, 2.5)
    plotting            plot, show_images and the live ProgressBoard (every chapter)
    training            Module, DataModule, Trainer, SGD, Classifier: the framework (3.2, 4.3)
    data                synthetic regression data (3.3) and Fashion-MNIST (4.2)
    linear_regression   linear regression from scratch and concise (3.4, 3.5)
    weight_decay        l2_penalty and weight decay (3.7)
    softmax_regression  softmax, cross-entropy, softmax regression (chapter 4)
    mlp                 relu, MLPScratch and MLP (5.2)
    dropout             dropout_layer, dropout_mask, the Dropout layer, MLPs with dropout (5.6)
    kaggle_house        the Kaggle house prices data, K-fold, log-RMSE (5.7)
    convolution         corr2d, Conv2D, multi-channel correlation, pool2d from scratch (7.2-7.5)
    cnn_utils           what the CNNs share: init_cnn(_kaiming), layer_summary, num_params,
                        min_input_size and CNNClassifier (chapters 7 and 8)
    lenet               LeNet (7.6)
    alexnet             AlexNet and its dense head (8.1)
    vgg                 vgg_block, VGG (8.2)
    nin                 nin_block, NiN (8.3)
    googlenet           Inception, GoogLeNet (8.4)
    batch_norm          batch_norm, BatchNorm, LeNet with batch norm (8.5)
    resnet              Residual, ResNet, ResNet18, ResNeXtBlock (8.6)
    densenet            conv_block, DenseBlock, transition_block, DenseNet (8.7)
    regnet              AnyNet, RegNetX32 (8.8)
    profile, costs      execution profiles; measured page costs and projected GPU times
                        (every page that trains)
    notebook            glue, check_environment, last_executed: what a page says about
                        its own run (quoted numbers, versions and device, last execution)
    selfcheck           check and hint: a student checks an exercise's answer and gets hints,
                        never the answer (every chapter; answers stored as digests in
                        _selfcheck_data, function references in _selfcheck_refs)
    _checks             the argument checks of every module (private): a wrong type raises
                        TypeError, a wrong value ValueError, each message shows the value

A new chapter's code goes into a new module named after its idea (one network or one
technique per module, kept to about 200 lines), re-exported here, with its tests in
``tests/test_<module>.py`` (a bad-argument case in ``tests/test_checks.py`` for each new
public name); what several CNNs share goes into ``cnn_utils``, what every model shares into
``training``, and argument checks use ``_checks``. A page imports the package as a whole
(``import dlcourse`` in its first code cell) and calls ``dlcourse.Trainer``, ``dlcourse.LeNet``
and so on, never a module's private helpers.
"""

from . import costs, profile
from .alexnet import AlexNet
from .autograd import check_grad, derivative, numerical_grad, plot_function_and_derivative
from .batch_norm import BatchNorm, BNLeNet, BNLeNetScratch, batch_norm
from .cnn_utils import init_cnn, init_cnn_kaiming, layer_summary, min_input_size, num_params
from .convolution import (
    Conv2D,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    pool2d,
)
from .costs import expected_cost
from .data import FashionMNIST, SyntheticRegressionData, write_house_tiny_csv
from .densenet import DenseBlock, DenseNet, conv_block, transition_block
from .dropout import Dropout, DropoutMLP, DropoutMLPScratch, dropout_layer, dropout_mask
from .googlenet import GoogLeNet, Inception
from .kaggle_house import KaggleHouse, k_fold_data, kaggle_house_files, log_rmse
from .lenet import LeNet
from .linear_regression import LinearRegression, LinearRegressionScratch
from .mlp import MLP, MLPScratch, relu
from .nin import NiN, nin_block
from .notebook import check_environment, glue, last_executed
from .plotting import ProgressBoard, plot, show_images
from .regnet import AnyNet, RegNetX32
from .resnet import Residual, ResNet, ResNet18, ResNeXtBlock
from .selfcheck import check, hint
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
from .training import (
    SGD,
    Classifier,
    DataModule,
    EpochResult,
    History,
    Module,
    TensorLoader,
    Trainer,
)
from .vgg import VGG, vgg_block
from .weight_decay import WeightDecay, WeightDecayData, WeightDecayScratch, l2_penalty

__version__ = "2026.11.0"

__all__ = [
    "AlexNet",
    "AnyNet",
    "batch_norm",
    "BatchNorm",
    "BNLeNet",
    "BNLeNetScratch",
    "check",
    "check_environment",
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
    "Dropout",
    "dropout_layer",
    "dropout_mask",
    "DropoutMLP",
    "DropoutMLPScratch",
    "EpochResult",
    "expected_cost",
    "FashionMNIST",
    "float32_fields",
    "glue",
    "GoogLeNet",
    "hint",
    "History",
    "Inception",
    "init_cnn",
    "init_cnn_kaiming",
    "k_fold_data",
    "kaggle_house_files",
    "KaggleHouse",
    "l2_penalty",
    "last_executed",
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
