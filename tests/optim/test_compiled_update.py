"""The compiled optimizer updates (neuralab.kernels.optim) against the NumPy reference (each
optimizer's ``_update``): for every optimizer and every combination of its options, float32 and
float64, tensors of odd sizes, through the per-parameter loop, the flat whole-group call and the
blocked update on one and on two threads, the parameters and every state array are equal bit for
bit after several steps (``kernels.forced(True)`` against ``kernels.forced(False)``).  Spies on
the kernels check that the compiled path really ran (and the reference path never called them),
so the equality cannot hold vacuously.  Also: state made lazily (an option switched on after the
first steps), the switch read at every step, special values, and neuralab.optim without numba.

numba is in the [test] extra: these tests fail, never skip, without it.
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

import neuralab as nl
from neuralab import kernels, optim, threads
from neuralab.kernels import optim as compiled_kernels
from neuralab.optim import blocked


def _combos(cls, fixed, **options):
    """Every combination of ``options`` (name -> values) on top of ``fixed``."""
    names = list(options)
    out = []
    for values in itertools.product(*options.values()):
        kwargs = {**fixed, **dict(zip(names, values))}
        if cls is optim.SGD and kwargs["nesterov"] and (
                kwargs["momentum"] == 0 or kwargs["dampening"] != 0):
            continue  # refused by SGD
        out.append((cls, kwargs))
    return out


# hyperparameters whose float32 roundings differ from their float64 values, and an eps large
# enough to count next to sqrt(v), so that a kernel with a wrong scalar or order shows
CASES = (
    _combos(optim.SGD, {"lr": 0.01}, weight_decay=[0.0, 0.03], momentum=[0.0, 0.9],
            dampening=[0.0, 0.3], nesterov=[False, True])
    + _combos(optim.Adam, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-3},
              weight_decay=[0.0, 0.1], amsgrad=[False, True],
              eps_before_correction=[False, True])
    + _combos(optim.AdamW, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-3},
              weight_decay=[0.0, 0.1], amsgrad=[False, True],
              eps_before_correction=[False, True])
    + _combos(optim.RMSProp, {"lr": 0.01, "alpha": 0.9, "eps": 1e-3},
              weight_decay=[0.0, 0.1], momentum=[0.0, 0.7], centered=[False, True],
              eps_inside_sqrt=[False, True])
    + _combos(optim.AdaGrad, {"lr": 0.1, "eps": 1e-3}, weight_decay=[0.0, 0.1],
              lr_decay=[0.0, 0.01], initial_accumulator_value=[0.0, 0.1],
              eps_inside_sqrt=[False, True])
)
KERNEL_OF = {optim.SGD: "sgd", optim.Adam: "adam", optim.AdamW: "adam",
             optim.RMSProp: "rmsprop", optim.AdaGrad: "adagrad"}
#: odd sizes: with the tests' 64-element blocks, tensors under 32 elements are copied into the
#: flat gradient, larger ones read in place, none a multiple of the block
SHAPES = [(37, 23), (23,), (7,), (23, 131), (131,), (5, 3), (301,)]
#: path -> (flat update, blocked update, threads)
PATHS = {"per_parameter": (False, False, 1), "flat": (True, False, 1),
         "blocked_1_thread": (True, True, 1), "blocked_2_threads": (True, True, 2)}
STEPS = 4


def _case_id(case) -> str:
    cls, kwargs = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items() if k != "lr")


@pytest.fixture
def spies(monkeypatch):
    """Count the calls of every optimizer kernel (the optimizers look them up at each call)."""
    counts = dict.fromkeys(KERNEL_OF.values(), 0)
    for name in counts:
        original = getattr(compiled_kernels, name)

        def spy(*args, _name=name, _original=original):
            counts[_name] += 1
            return _original(*args)

        monkeypatch.setattr(compiled_kernels, name, spy)
    return counts


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 64 elements and low thresholds, so the test groups (4 351 values) are blocked
    and threaded on both paths; thread counts limited by set_num_threads alone."""
    monkeypatch.setattr(blocked, "BLOCK", 64)
    monkeypatch.setattr(blocked, "MIN_SIZE", 256)
    monkeypatch.setattr(blocked, "MIN_THREADED", 512)
    monkeypatch.setattr(blocked, "COMPILED_MIN_SIZE", 256)
    monkeypatch.setattr(blocked, "COMPILED_MIN_THREADED", 512)
    for name in ("NEURALAB_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "_blas", False)  # no live BLAS limit
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    yield
    threads.set_num_threads(None)


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


def assert_same_bits(a: np.ndarray, b: np.ndarray, what: str) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape, what
    if not np.array_equal(a, b, equal_nan=True) or _bits(a) != _bits(b):  # -0.0, NaN payloads
        diff = np.flatnonzero(a.reshape(-1).view(np.uint8) != b.reshape(-1).view(np.uint8))
        raise AssertionError(f"{what}: {diff.size} bytes differ, first at byte {diff[:3]}")


def run(cls, kwargs, path, compiled, dtype, steps=STEPS, *, switch_on=None, specials=False,
        seed=0):
    """``steps`` steps of ``cls(**kwargs)`` on SHAPES along ``path``; ``switch_on``: options set
    after the second step (their state is made lazily).  Returns the parameters, the state
    arrays per parameter, and the optimizer."""
    flat, fast, n_threads = PATHS[path]
    threads.set_num_threads(n_threads)
    rng = np.random.default_rng(seed)
    params = [nl.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
              for s in SHAPES]
    opt = cls(params, **kwargs)
    opt._flat_update = flat
    opt._blocked_update = fast
    with kernels.forced(compiled):
        for step in range(steps):
            if step == 2 and switch_on:
                opt.param_groups[0].update(switch_on)
            for p in params:
                g = rng.standard_normal(p.shape) * 10.0 ** rng.integers(-3, 3, p.shape)
                g.reshape(-1)[:: 7] = 0.0
                g.reshape(-1)[3:: 11] = -0.0
                if specials:
                    g.reshape(-1)[5:: 13] = np.inf
                    g.reshape(-1)[6:: 17] = -np.inf
                    g.reshape(-1)[8:: 19] = np.nan
                    g.reshape(-1)[9:: 23] = 1e-300
                p.grad = g.astype(dtype)
            opt.step()
    states = [{k: v.copy() for k, v in opt.state[p].items() if k != "step"} for p in params]
    return [p.data.copy() for p in params], states, opt


def compare(cls, kwargs, path, dtype, spies, **options):
    ref_data, ref_states, ref_opt = run(cls, kwargs, path, False, dtype, **options)
    name = KERNEL_OF[cls]
    assert spies[name] == 0, "the reference path called a kernel"
    data, states, opt = run(cls, kwargs, path, True, dtype, **options)
    # the compiled path ran: every step but a first one that makes a momentum buffer
    assert spies[name] >= STEPS - 1, f"the compiled path ran {spies[name]} times"
    assert sum(spies.values()) == spies[name]
    for i, (a, b) in enumerate(zip(data, ref_data)):
        assert_same_bits(a, b, f"parameter {i}")
    for i, (st, ref) in enumerate(zip(states, ref_states)):
        assert st.keys() == ref.keys(), f"state keys of parameter {i}"
        for key in st:
            assert_same_bits(st[key], ref[key], f"state {key!r} of parameter {i}")
    if PATHS[path][1]:
        plan = opt._flat[0].plan
        assert plan is not None and plan.compiled and plan.threads == PATHS[path][2]
        assert ref_opt._flat[0].plan is not None and not ref_opt._flat[0].plan.compiled
    elif PATHS[path][0]:
        assert opt._flat and opt._flat[0].plan is None
    else:
        assert not opt._flat
    return opt


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_compiled_update_equals_the_reference_bit_for_bit(case, dtype, path, spies,
                                                          small_blocks):
    cls, kwargs = case
    compare(cls, kwargs, path, dtype, spies)


LAZY = [
    (optim.Adam, {"lr": 0.01, "weight_decay": 0.1}, {"amsgrad": True}),
    (optim.AdamW, {"lr": 0.01}, {"amsgrad": True}),
    (optim.SGD, {"lr": 0.01}, {"momentum": 0.9, "nesterov": True}),
    (optim.SGD, {"lr": 0.01, "weight_decay": 0.1}, {"momentum": 0.9, "dampening": 0.2}),
    (optim.RMSProp, {"lr": 0.01}, {"centered": True, "momentum": 0.5}),
    (optim.RMSProp, {"lr": 0.01, "momentum": 0.5}, {"centered": True}),
]


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("case", LAZY, ids=lambda c: f"{c[0].__name__}-{sorted(c[2])}")
def test_state_made_after_the_first_steps(case, path, spies, small_blocks):
    """An option switched on after two steps: the reference makes its state, then the kernel
    takes over (spied: it runs after the switch too), with the reference's numbers."""
    cls, kwargs, later = case
    for dtype in (np.float32, np.float64):
        for name in spies:
            spies[name] = 0
        opt = compare(cls, kwargs, path, dtype, spies, switch_on=later, steps=STEPS + 2)
        assert spies[KERNEL_OF[cls]] >= STEPS, "the kernel did not run after the switch"
        made = {"amsgrad": "max_exp_avg_sq", "centered": "grad_avg", "momentum":
                "momentum_buffer"}
        for st in opt.state.values():
            assert {made[k] for k in later if k in made} <= set(st)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf and 0 * inf on both paths
@pytest.mark.parametrize("path", ["per_parameter", "blocked_2_threads"])
@pytest.mark.parametrize("case", [max((c for c in CASES if c[0] is cls),
                                     key=lambda c: sum(map(bool, c[1].values())))
                                 for cls in KERNEL_OF], ids=_case_id)
def test_special_values(case, path, spies, small_blocks):
    """Gradients with signed zeros, infinities, NaN and tiny values: the same bits (NaN payloads
    and the sign of zeros included)."""
    cls, kwargs = case
    compare(cls, kwargs, path, np.float32, spies, specials=True)


def test_the_switch_is_read_at_every_step(spies):
    rng = np.random.default_rng(3)
    params = [nl.tensor(rng.standard_normal((61, 67)).astype(np.float32), requires_grad=True)]
    twin = [nl.tensor(p.data.copy(), requires_grad=True) for p in params]
    opt, ref = optim.Adam(params, lr=0.01), optim.Adam(twin, lr=0.01)
    for step in range(6):
        g = rng.standard_normal((61, 67)).astype(np.float32)
        params[0].grad, twin[0].grad = g, g.copy()
        before = spies["adam"]
        if step in (2, 3):
            with kernels.disabled():
                opt.step()
            assert spies["adam"] == before
        else:
            with kernels.forced(True):
                opt.step()
            assert spies["adam"] == before + 1
        with kernels.forced(False):
            ref.step()
    assert_same_bits(params[0].data, twin[0].data, "parameter")


def test_numpy_scalars_and_other_dtypes_take_the_reference(spies):
    """A NumPy float64 hyperparameter changes the reference's rounding (not a weak scalar), and
    float16 has no kernel: both run the reference."""
    for dtype, lr in ((np.float32, np.float64(0.01)), (np.float16, 0.01)):
        p = nl.tensor(np.ones(33, dtype), requires_grad=True, dtype=dtype)
        opt = optim.Adam([p], lr=lr)
        p.grad = np.full(33, 0.5, dtype)
        with kernels.forced(True):
            opt.step()
        assert spies["adam"] == 0
        assert p.data.dtype == dtype and np.all(p.data < 1)


def test_a_subclass_with_its_own_rule_takes_its_rule(spies):
    """A subclass that redefines ``_update`` does not get its parent's kernel."""

    class HalfAdam(optim.Adam):
        def _update(self, data, grad, state, group, scratch):
            super()._update(data, grad * 0.5, state, group, scratch)

    class KernelAdam(HalfAdam):  # its own kernel below its rule: used
        def _kernel(self, group):
            return self._compiled

    # (class, kernel calls, first moment after one step of gradient 1: (1 - 0.9) g)
    for cls, calls, m in ((HalfAdam, 0, 0.05), (KernelAdam, 1, 0.1)):
        p = nl.tensor(np.ones(33, np.float32), requires_grad=True)
        opt = cls([p], lr=0.1)
        p.grad = np.ones(33, np.float32)
        with kernels.forced(True):
            opt.step()
        assert spies["adam"] == calls
        np.testing.assert_allclose(opt.state[p]["exp_avg"], m, rtol=1e-6)
        spies["adam"] = 0


def test_the_fallback_inside_a_piece_needs_no_scratch(spies):
    """The compiled path's pieces carry no scratch arrays; if a piece ever needs the reference
    (here: amsgrad's state missing), it makes its own."""
    rng = np.random.default_rng(4)
    data, grad = rng.standard_normal((2, 45)).astype(np.float32)
    results = []
    for compiled in (True, False):
        p = nl.tensor(data.copy(), requires_grad=True)
        opt = optim.Adam([p], lr=0.01, amsgrad=True)
        state = {"step": 1, "exp_avg": np.zeros(45, np.float32),
                 "exp_avg_sq": np.zeros(45, np.float32)}
        if compiled:
            opt._compiled(p.data, grad, state, opt.param_groups[0], [])
        else:
            opt._update(p.data, grad, state, opt.param_groups[0],
                        [np.empty(45, np.float32), np.empty(45, np.float32)])
        results.append((p.data.copy(), state))
    assert spies["adam"] == 0
    assert_same_bits(results[0][0], results[1][0], "parameter")
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        assert_same_bits(results[0][1][key], results[1][1][key], key)


def test_non_contiguous_arrays_take_the_reference_or_a_copy(spies):
    """A transposed parameter (not C-contiguous) runs the reference (a kernel on a copy would
    lose the update); a transposed gradient is copied for the kernel."""
    base = np.arange(1, 36, dtype=np.float32).reshape(5, 7)
    results = []
    for compiled in (True, False):
        p = nl.tensor(base.copy(), requires_grad=True)
        q = nl.tensor(base.copy(), requires_grad=True)
        opt = optim.SGD([p, q], lr=0.1, momentum=0.9)
        opt._flat_update = False
        with kernels.forced(compiled):
            for _ in range(3):
                p.data = np.asfortranarray(p.data)  # .T.T layout: Fortran order
                p.grad = np.ones((5, 7), np.float32)
                q.grad = np.asfortranarray(np.full((5, 7), 0.25, np.float32))
                opt.step()
        results.append((p.data.copy(), q.data.copy()))
    assert spies["sgd"] == 2  # q's second and third steps
    for a, b in zip(*results):
        assert_same_bits(a, b, "parameter")


def test_without_numba(monkeypatch, spies):
    """neuralab.optim without numba (kernels.available() False) or with the kernels switched off
    runs the reference and never calls a kernel."""
    monkeypatch.setattr(kernels, "_available", False)
    monkeypatch.setattr(kernels, "_switch", None)
    monkeypatch.setattr(kernels, "_from_env", None, raising=False)  # a cached reading, if any
    assert not kernels.available() and not kernels.enabled()
    p = nl.tensor(np.ones(1000, np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.ones(1000, np.float32)
    opt.step()
    kernels.set_enabled(True)  # asked for, but numba is missing
    assert not kernels.enabled()
    opt.step()
    monkeypatch.setattr(kernels, "_available", True)
    kernels.set_enabled(False)
    opt.step()
    assert sum(spies.values()) == 0
    np.testing.assert_allclose(p.data, 1 - 0.3, rtol=1e-5)


def test_optim_imports_and_steps_when_numba_cannot_be_imported():
    code = (
        "import sys; sys.modules['numba'] = None\n"  # as if not installed
        "import numpy as np, neuralab as nl\n"
        "from neuralab import kernels, optim\n"
        "assert not kernels.available() and not kernels.enabled()\n"
        "p = nl.tensor(np.ones(300000, np.float32), requires_grad=True)\n"
        "opt = optim.AdamW([p], lr=0.1)\n"
        "for _ in range(2):\n"
        "    p.grad = np.ones(300000, np.float32); opt.step()\n"
        "assert opt._flat[0].plan is not None and not opt._flat[0].plan.compiled\n"
        "assert np.all(p.data < 0.9)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
