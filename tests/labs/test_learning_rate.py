import math

import numpy as np
import pytest
import torch

from neuralab import labs
from neuralab.labs import learning_rate


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("learning-rate")
    result, files = labs.run("learning-rate", quick=True, out_dir=out)
    return result, files, out


def test_quick_run_shows_the_claim_and_writes_the_figures(quick_run):
    result, files, out = quick_run
    assert result.claim_holds
    assert {f.name for f in files} == {
        "learning_rate_sweep.png", "lr_schedules.png", "result.json", "summary.md"
    }
    for name in ("learning_rate_sweep.png", "lr_schedules.png"):
        assert (out / name).stat().st_size > 10_000


def test_parabola_paths_follow_the_closed_form(quick_run):
    # on f(w) = w^2 gradient descent is w_k = (1 - 2 lr)^k w_0
    for key, path in quick_run[0].parabola_paths.items():
        k = np.arange(len(path))
        np.testing.assert_allclose(path, (1 - 2 * float(key)) ** k, rtol=1e-12)


def test_the_regimes_of_the_sweep(quick_run):
    result = quick_run[0]
    level, status, rises = result.level, result.status, result.rise_fraction
    config = learning_rate.Config.quick()
    # too small: smooth but far from the best after all epochs
    assert status["0.0001"] == "too slow"
    assert rises["0.0001"] == 0.0 and level["0.0001"] > 1.5 * level[f"{result.best_lr:g}"]
    assert result.best_lr in (0.01, 0.1)
    # just below divergence the loss bounces up in many epochs; above it, it explodes
    assert rises["0.1"] >= 0.3 > rises["0.0001"]
    for key in ("1", "10"):
        assert status[key] == "diverges" and math.isinf(level[key])
        assert len(result.curves[key]) < config.epochs + 1  # stopped once non-finite
    # each decayed schedule ends below the constant rate it starts from
    for name in ("step", "exponential", "cosine+warmup", "plateau"):
        assert result.schedule_level[name] < result.schedule_level["constant"]


def test_every_seed_shows_the_claim(quick_run):
    # measured, quick config, seeds 0-2, SkylakeX, Haswell and Sandybridge kernels: best rate
    # 0.01 or 0.1, the worst schedule's level / the constant rate's 0.81-0.91 (the constant rate
    # at 0.2 bounces, so its level moves with the kernel in the third digit for some seeds)
    result = quick_run[0]
    assert [r["seed"] for r in result.per_seed] == list(learning_rate.Config.quick().seeds)
    for row in result.per_seed:
        assert row["holds"], row
        assert row["best_lr"] in (0.01, 0.1), row
        assert row["worst/const"] < 0.97, row


def test_schedules_give_torch_rates(quick_run):
    result = quick_run[0]
    epochs = learning_rate.Config.quick().epochs
    lr0 = result.schedule_lr
    warmup = max(1, epochs // 10)

    def torch_rates(make, metrics=None):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=lr0)
        sched = make(opt)
        rates = []
        for e in range(epochs):
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step(metrics[e]) if metrics is not None else sched.step()
        return rates

    S = torch.optim.lr_scheduler
    expected = {
        "step": torch_rates(lambda o: S.StepLR(o, step_size=epochs // 3, gamma=0.1)),
        "exponential": torch_rates(lambda o: S.ExponentialLR(o, gamma=0.01 ** (1 / epochs))),
        "cosine+warmup": torch_rates(lambda o: S.SequentialLR(o, [
            S.LinearLR(o, start_factor=1 / (warmup + 1), total_iters=warmup),
            S.CosineAnnealingLR(o, T_max=epochs - warmup)], milestones=[warmup])),
        # the plateau schedule watched the loss after each epoch (index 0 is before training)
        "plateau": torch_rates(lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=3),
                               metrics=result.schedule_curves["plateau"][1:]),
        "constant": [lr0] * epochs,
    }
    for name, rates in expected.items():
        np.testing.assert_allclose(result.schedule_lr_curves[name], rates, rtol=1e-10,
                                   err_msg=name)


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="lrs"):
        learning_rate.run(learning_rate.Config(lrs=(0.1, -1.0, 1.0)))
    with pytest.raises(ValueError, match="last_epochs"):
        learning_rate.run(learning_rate.Config(epochs=10, last_epochs=20))
    with pytest.raises(ValueError, match="seeds"):
        learning_rate.run(learning_rate.Config(seeds=()))
