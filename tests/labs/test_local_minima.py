import numpy as np
import pytest
import torch

from neuralab import labs
from neuralab.labs import local_minima as lab


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("local-minima")
    result, files = labs.run("local-minima", quick=True, out_dir=out)
    return result, files, out


def test_quick_run_shows_the_claim_and_writes_the_figure(quick_run):
    result, files, out = quick_run
    assert result.claim_holds, result.summary()
    assert {f.name for f in files} == {"local_minima.png", "result.json", "summary.md"}
    assert (out / "local_minima.png").stat().st_size > 10_000


def test_the_critical_points_are_the_closed_forms():
    points = lab.critical_points()
    # the local function's critical points solve 4 x^3 - 6 x + 1 = 0
    xs = sorted(x for x, _ in points["local"].values())
    np.testing.assert_allclose([4 * x ** 3 - 6 * x + 1 for x in xs], 0, atol=1e-12)
    assert xs[0] < 0 < xs[1] < xs[2]
    # the Hessians by hand: saddle diag(3x^2 - 1, 1); local diag(12 x^2 - 6, 2); plateau I at 0
    np.testing.assert_allclose(lab.hessian(lab.saddle, (0.0, 0.0)), np.diag([-1.0, 1.0]),
                               atol=1e-6)
    np.testing.assert_allclose(lab.hessian(lab.saddle, (1.0, 0.0)), np.diag([2.0, 1.0]),
                               atol=1e-6)
    np.testing.assert_allclose(lab.hessian(lab.plateau, (0.0, 0.0)), np.eye(2), atol=1e-6)
    x = points["local"]["local minimum"][0]
    np.testing.assert_allclose(lab.hessian(lab.local, (x, 0.0)), np.diag([12 * x * x - 6, 2]),
                               atol=1e-5)
    # the lower of the local function's two minima is the global one
    f = {k: x ** 4 - 3 * x ** 2 + x for k, (x, _) in points["local"].items()}
    assert f["global minimum"] < f["local minimum"] < f["saddle (maximum in x)"]


def test_the_optimizers_take_torchs_steps():
    # an oracle outside neuralab: the same 20 steps with torch's SGD, momentum SGD and Adam
    start = (2.2, 0.4)
    for name, make in (("gd", lambda p: torch.optim.SGD([p], lr=0.01)),
                       ("momentum", lambda p: torch.optim.SGD([p], lr=0.01, momentum=0.9)),
                       ("adam", lambda p: torch.optim.Adam([p], lr=0.01))):
        path, _ = lab.descend(lab.local, start, name, 0.01, 20)
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        opt = make(p)
        for _ in range(20):
            opt.zero_grad()
            (p[0] ** 4 - 3 * p[0] ** 2 + p[0] + p[1] ** 2).backward()
            opt.step()
        np.testing.assert_allclose(path[-1], p.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_every_seed_shows_each_stall_with_a_margin(quick_run):
    result = quick_run[0]
    seeds = lab.Config.quick().seeds
    assert [(r.function, r.seed) for r in result.runs] == \
        [(f, s) for f in lab.FUNCTIONS for s in seeds]
    for r in result.runs:
        if r.function == "saddle":
            # measured, quick (seeds 0-2) and full (0-9), SkylakeX and Haswell (float64 on two
            # numbers, no BLAS): ratios 3.74-3.78 (momentum; the linear escape rates give 3.7)
            # and 7.0-17.7 (Adam); every optimizer ends in a minimum
            gd = r.steps_to_reach["gd"]
            assert gd > 3 * r.steps_to_reach["momentum"] and gd > 6 * r.steps_to_reach["adam"]
            assert all(abs(abs(r.end[o][0]) - 1) < 1e-3 for o in lab.OPTIMIZERS)
        elif r.function == "plateau":
            # gradient descent has hardly moved: f is still within 0.01 of the plateau's 1
            assert r.final["gd"] > 0.99 and r.steps_to_reach["gd"] is None
            assert max(r.final["momentum"], r.final["adam"]) < lab.PLATEAU_REACHED
        else:
            assert r.final["gd"] == pytest.approx(r.final["adam"], abs=1e-3)
            assert r.final["momentum"] < r.final["gd"] - 2  # -3.51 against -1.07
    assert all(result.checks.values()) and len(result.checks) == 4


def test_too_few_steps_fail_the_claim():
    # 100 steps: gradient descent has not yet left the saddle, so no ratio can be measured
    config = lab.Config.quick()
    config.saddle_steps, config.seeds = 100, (0,)
    result = lab.run(config)
    assert result.runs[0].steps_to_reach["gd"] is None
    assert not result.claim_holds
    assert "FAILED" in result.summary()


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="saddle_lr"):
        lab.run(lab.Config(saddle_lr=0.0))
    with pytest.raises(ValueError, match="local_steps"):
        lab.run(lab.Config(local_steps=-1))
    with pytest.raises(ValueError, match="seeds"):
        lab.run(lab.Config(seeds=()))
