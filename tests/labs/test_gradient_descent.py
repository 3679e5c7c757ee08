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
    assert {f.name for f in files} == {"gradient_descent.png", "gradient_descent_contours.png",
                                       "result.json", "summary.md"}
    assert (out / "gradient_descent.png").stat().st_size > 10_000
    assert (out / "gradient_descent_contours.png").stat().st_size > 10_000


def test_updates_per_epoch_and_the_three_regimes(quick_run):
    result = quick_run[0]
    config = gradient_descent.Config.quick()
    n = config.n_samples
    assert result.updates_per_epoch == {
        "batch": 1, "mini-batch": math.ceil(n / config.mini_batch_size), "stochastic": n
    }
    loss = result.epoch_loss
    assert all(len(v) == config.epochs + 1 for v in loss.values())
    # batch descent follows the exact gradient: its loss never rises; SGD's often does
    assert result.increase_fraction["batch"] == 0.0
    assert np.all(np.diff(loss["batch"]) < 0)
    assert result.increase_fraction["stochastic"] > result.increase_fraction["mini-batch"]


def test_every_seed_shows_the_orderings_with_margins(quick_run):
    # measured, quick config, seeds 0-2, default (SkylakeX), Haswell and Sandybridge kernels (the
    # same to 4 digits): SGD/mini final loss 0.009-0.011, mini/batch 0.29-0.33, SGD raised the
    # loss after 12-22 % of its first updates, mini @ k / SGD @ k 0.77-0.85
    result = quick_run[0]
    assert [row["seed"] for row in result.per_seed] == list(gradient_descent.Config.quick().seeds)
    for row in result.per_seed:
        assert row["holds"], row
        # per epoch: SGD lowest, batch highest, with wide margins (factors, not percents)
        assert row["SGD/mini"] < 0.1, row
        assert row["mini/batch"] < 0.5, row
        assert row["SGD raising"] > 0.05, row
        # per update: an average over 32 samples beats one sample
        assert row["mini @ k"] < 0.95 * row["SGD @ k"], row


def test_gradient_noise_follows_sampling_theory(quick_run):
    result = quick_run[0]
    sizes, noise = result.noise_batch_sizes, np.asarray(result.gradient_noise)
    theory = np.asarray(result.gradient_noise_theory)
    assert sizes[0] == 1 and sizes[-1] == result.n_samples
    # E||g_B - g||^2 = sigma^2 (N - B) / (B (N - 1)): so noise(B) / noise(1) is fixed by N and B
    n = result.n_samples
    b = np.asarray(sizes, dtype=float)
    np.testing.assert_allclose(theory / theory[0], np.sqrt((n - b) / (b * (n - 1))), rtol=1e-9)
    # the Monte Carlo estimate (12 batches) is within a factor 1.5 of the theory for B >= 4
    # (measured ratio 0.82-1.01 on all three kernels)
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


def test_contour_paths_batch_smooth_sgd_noisy_mini_between(quick_run):
    # measured, quick config, seeds 0-5 (SkylakeX) and 0-2 (Haswell, the same to 3 digits): the
    # full loss rose after 0 % of batch descent's updates, 16-27 % of mini-batch's (B = 20),
    # 41-48 % of SGD's; wiggle (path length / straight distance) 1.2-1.3, 1.7-1.9, 3.9-5.9
    result = quick_run[0]
    rows = result.contour_per_seed
    assert [r["seed"] for r in rows] == list(gradient_descent.Config.quick().seeds)
    for row in rows:
        assert row["holds"], row
        assert row["raising batch"] == 0.0
        assert row["raising SGD"] > row["raising mini"] + 0.1 and row["raising SGD"] > 0.3, row
        assert 1.0 <= row["wiggle batch"] < row["wiggle mini"] < row["wiggle SGD"] / 1.5, row
    c = result.contour
    assert np.all(np.diff(c["losses"]["batch"]) < 0)
    assert all(len(c["paths"][m]) == c["steps"] + 1 for m in gradient_descent.MODES)


def test_contour_batch_path_is_plain_gradient_descent_on_the_least_squares_loss(quick_run):
    # the batch path against w <- w - lr * 2 X^T (X w - y) / N in float64, and the minimum
    # against the normal equations, both computed here from the lab's regression sample
    result = quick_run[0]
    c = result.contour
    config = gradient_descent.Config.quick()
    rng = np.random.default_rng(result.seeds[0])
    n = config.contour_samples
    x1 = rng.normal(size=n)
    x2 = 0.8 * x1 + 0.6 * rng.normal(size=n)
    X = np.stack([x1, x2], axis=1).astype(np.float32).astype(np.float64)
    y = (X @ np.array([1.0, 0.5]) + 0.5 * rng.normal(size=n)).astype(np.float32)
    y = y.astype(np.float64)
    w = np.asarray(c["paths"]["batch"][0], dtype=np.float64)
    expected = [w]
    for _ in range(config.contour_steps):
        w = w - config.contour_lr * 2 * X.T @ (X @ w - y) / n
        expected.append(w)
    np.testing.assert_allclose(c["paths"]["batch"], expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c["minimum"], np.linalg.solve(X.T @ X, X.T @ y), rtol=1e-6)
    i, j = np.unravel_index(np.argmin(c["grid_loss"]), np.shape(c["grid_loss"]))
    step = c["w1"][1] - c["w1"][0]
    assert abs(c["w1"][j] - c["minimum"][0]) <= step and abs(c["w2"][i] - c["minimum"][1]) <= step


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="n_samples"):
        gradient_descent.run(gradient_descent.Config(n_samples=5000))
    with pytest.raises(ValueError, match="epochs"):
        gradient_descent.run(gradient_descent.Config(epochs=1))
    with pytest.raises(ValueError, match="seeds"):
        gradient_descent.run(gradient_descent.Config(seeds=(1, 1)))
    with pytest.raises(ValueError, match="contour_batch"):
        gradient_descent.run(gradient_descent.Config(contour_batch=200))


def test_same_seed_same_numbers():
    config = gradient_descent.Config(n_samples=60, epochs=2, trace_steps=10, noise_batches=2,
                                     seeds=(3,))
    a, b = gradient_descent.run(config), gradient_descent.run(config)
    assert a.epoch_loss == b.epoch_loss and a.per_seed[0]["final SGD"] == b.per_seed[0]["final SGD"]
