import numpy as np
import pytest

from neuralab import labs
from neuralab.labs import vanishing_gradients as vg

SIGMOID, RELU = "sigmoid:xavier_normal", "relu:he_normal"


def test_quick_run_shows_the_claim_and_writes_the_figure(tmp_path):
    result, files = labs.run("vanishing-gradients", quick=True, out_dir=tmp_path)
    assert result.claim_holds, result.summary()
    config = vg.Config.quick()
    assert len(result.layers) == config.depth + 1  # hidden layers and the output layer

    assert result.seeds == list(config.seeds) and len(config.seeds) >= 3
    sigmoid = np.asarray(result.epoch1_norms(SIGMOID))
    relu = np.asarray(result.epoch1_norms(RELU))
    # measured on seeds 0-2 under the SkylakeX, Haswell and Sandybridge OpenBLAS kernels:
    # first/last 2.5e-5 to 3.0e-5 for sigmoid, 0.88 to 1.2 for ReLU (the bounds are 30x away)
    assert max(result.first_to_last[SIGMOID]) < 1e-3
    assert min(result.first_to_last[RELU]) > 0.1
    # sigmoid' <= 1/4 and Xavier weights keep the scale, so going one layer back shrinks the
    # gradient by at least 2x (measured about 4x).  dL/dW = h_in^T delta also scales with the
    # layer's input, so layer 1 (fed standardized pixels, not sigmoid outputs) is left out.
    assert np.all(sigmoid[1:-1] / sigmoid[2:] < 0.5), sigmoid
    # with ReLU and He init no layer's gradient is 10x off the output layer's
    assert np.all((relu / relu[-1] > 0.1) & (relu / relu[-1] < 10)), relu
    # the sigmoid network is still at chance (loss ~ ln 10, measured 2.32 and accuracy 0.10 on
    # every seed and kernel) while the ReLU network learned (measured final loss 0.11-0.77,
    # test accuracy 0.81-0.95)
    assert min(result.final_loss[SIGMOID]) > 0.9 * np.log(10)
    assert max(result.final_loss[RELU]) < 1.5
    assert min(result.final_accuracy[RELU]) > 0.6 > 0.3 > max(result.final_accuracy[SIGMOID])
    # the per-seed finals are the last points of the curves (first seed)
    assert result.final_loss[RELU][0] == result.loss[RELU][-1]

    assert {f.name for f in files} == {"vanishing_gradients.png", "result.json", "summary.md"}
    assert (tmp_path / "vanishing_gradients.png").stat().st_size > 10_000


def test_same_config_same_numbers():
    config = vg.Config(networks=("tanh:xavier_normal",), depth=3, epochs=2, n_train=200,
                       seeds=(0, 1))
    a, b = vg.run(config), vg.run(config)
    assert a.grad_norms == b.grad_norms and a.loss == b.loss
    assert a.final_loss == b.final_loss
    # ... and another seed gives other numbers
    assert a.final_loss["tanh:xavier_normal"][0] != a.final_loss["tanh:xavier_normal"][1]


def test_bad_network_spec_is_a_clear_error():
    with pytest.raises(ValueError, match="activation:initializer"):
        vg.run(vg.Config(networks=("relu",)))
    with pytest.raises(ValueError, match="unknown initializer"):
        vg.run(vg.Config(networks=("relu:gaussian",)))
    with pytest.raises(ValueError, match="seeds"):
        vg.run(vg.Config(seeds=()))
