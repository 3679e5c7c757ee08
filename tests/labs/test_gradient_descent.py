import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from neuralab import labs
from neuralab.labs import gradient_descent


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradient-descent")
    result, files = labs.run("gradient-descent", quick=True, out_dir=out)
    return result, files, out


def test_quick_run_shows_the_claim_and_writes_the_figure(quick_run):
    result, files, out = quick_run
    assert result.claim_holds
    assert {f.name for f in files} == {"gradient_descent.png", "result.json", "summary.md"}
    assert (out / "gradient_descent.png").stat().st_size > 10_000


def test_updates_per_epoch_and_the_three_regimes(quick_run):
    result = quick_run[0]
    config = gradient_descent.Config.quick()
    n = config.n_samples
    assert result.updates_per_epoch == {
        "batch": 1, "mini-batch": math.ceil(n / config.mini_batch_size), "stochastic": n
    }
    loss = result.epoch_loss
    assert all(len(v) == config.epochs + 1 for v in loss.values())
    # per epoch: SGD lowest, batch highest, with wide margins (factors, not percents)
    assert loss["stochastic"][-1] < 0.1 * loss["mini-batch"][-1]
    assert loss["mini-batch"][-1] < 0.5 * loss["batch"][-1]
    # batch descent follows the exact gradient: its loss never rises; SGD's often does
    assert result.increase_fraction["batch"] == 0.0
    assert np.all(np.diff(loss["batch"]) < 0)
    assert result.increase_fraction["stochastic"] > 0.05
    assert result.increase_fraction["stochastic"] > result.increase_fraction["mini-batch"]
    # per update: an average over 32 samples beats one sample
    assert result.loss_at_step["mini-batch"] < result.loss_at_step["stochastic"]


def test_gradient_noise_follows_sampling_theory(quick_run):
    result = quick_run[0]
    sizes, noise = result.noise_batch_sizes, np.asarray(result.gradient_noise)
    theory = np.asarray(result.gradient_noise_theory)
    assert sizes[0] == 1 and sizes[-1] == result.n_samples
    # E||g_B - g||^2 = sigma^2 (N - B) / (B (N - 1)): so noise(B) / noise(1) is fixed by N and B
    n = result.n_samples
    b = np.asarray(sizes, dtype=float)
    np.testing.assert_allclose(theory / theory[0], np.sqrt((n - b) / (b * (n - 1))), rtol=1e-9)
    # the Monte Carlo estimate (20 batches) is within a factor 1.5 of the theory for B >= 4
    inner = (b >= 4) & (b < n)
    assert np.all(np.abs(np.log(noise[inner] / theory[inner])) < np.log(1.5))
    assert noise[-1] < 1e-5  # the full batch is the gradient (float32 rounding aside)
    assert np.all(np.diff(noise) < 0)


def test_batch_descent_matches_torch_full_batch_gradient_descent(quick_run):
    result = quick_run[0]
    config = gradient_descent.Config.quick()
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X[: config.n_samples].astype(np.float32))
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y[: config.n_samples])
    w = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True)
         for k, v in result.initial_weights.items()}
    opt = torch.optim.SGD(list(w.values()), lr=config.lr)

    def loss_fn():
        h = torch.relu(X @ w["0.weight"] + w["0.bias"])
        return torch.nn.functional.cross_entropy(h @ w["1.weight"] + w["1.bias"], y)

    losses = [loss_fn().item()]
    for _ in range(config.epochs):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
        losses.append(loss_fn().item())
    np.testing.assert_allclose(result.epoch_loss["batch"], losses, rtol=1e-4)


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="n_samples"):
        gradient_descent.run(gradient_descent.Config(n_samples=5000))
    with pytest.raises(ValueError, match="epochs"):
        gradient_descent.run(gradient_descent.Config(epochs=1))
