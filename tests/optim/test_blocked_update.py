"""The blocked, multi-threaded update (optim/blocked.py) gives the reference update's numbers bit
for bit, for every optimizer and option, on groups whose size is no multiple of the block, with
gradients read in place, copied, cast or strided, on one thread and on several; and the thread
count follows neuralab.threads' limits.  These tests run the NumPy path (the compiled kernels
switched off); test_compiled_update.py compares the compiled path with it."""

import numpy as np
import pytest

import neuralab as nl
from neuralab import kernels, optim, threads
from neuralab.optim import blocked

CASES = [
    (optim.SGD, {"lr": 0.1}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (optim.RMSProp, {"lr": 0.01}),
    (optim.RMSProp, {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    (optim.RMSProp, {"lr": 0.01, "eps_inside_sqrt": True, "centered": True}),
    (optim.AdaGrad, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}),
    (optim.AdaGrad, {"lr": 0.1, "initial_accumulator_value": 0.1, "eps_inside_sqrt": True}),
    (optim.Adam, {"lr": 0.01}),
    (optim.Adam, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    (optim.Adam, {"lr": 0.01, "eps_before_correction": True, "betas": (0.8, 0.99)}),
    (optim.AdamW, {"lr": 0.01}),
    (optim.AdamW, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.5}),
]
#: tensors smaller than half a block (copied into the flat gradient), larger ones (read in
#: place), sizes that are no multiple of the block; the block is 64 elements in these tests
SHAPES = [(37, 23), (23,), (7,), (23, 131), (131,), (5, 3), (300,)]


@pytest.fixture(autouse=True)
def numpy_path():
    with kernels.forced(False):
        yield


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(blocked, "BLOCK", 64)
    monkeypatch.setattr(blocked, "MIN_SIZE", 256)
    monkeypatch.setattr(blocked, "MIN_THREADED", 512)


def run(cls, kwargs, fast, n_threads, monkeypatch, dtype=np.float32, steps=6):
    monkeypatch.setattr(blocked, "num_threads", lambda: n_threads)
    rng = np.random.default_rng(1)
    params = [nl.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in SHAPES]
    opt = cls(params, **kwargs)
    opt._blocked_update = fast
    for step in range(steps):
        for p in params:
            p.grad = rng.standard_normal(p.shape).astype(dtype)
        if step == 2:  # a float64 gradient of a tensor read in place: cast into the flat copy
            params[0].grad = params[0].grad.astype(np.float64)
        if step == 3:  # a strided gradient: copied too
            params[3].grad = np.asfortranarray(params[3].grad)
        opt.step()
    state = {k: v.copy() for k, v in opt._flat[0].state.items() if k != "step"}
    return [p.data.copy() for p in params], state, opt


@pytest.mark.parametrize("cls,kwargs", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
@pytest.mark.parametrize("n_threads", [1, 3])
def test_blocked_update_equals_the_reference_bit_for_bit(cls, kwargs, n_threads, small_blocks,
                                                         monkeypatch):
    data, state, opt = run(cls, kwargs, True, n_threads, monkeypatch)
    ref_data, ref_state, ref_opt = run(cls, kwargs, False, n_threads, monkeypatch)
    plan = opt._flat[0].plan
    assert plan is not None and plan.threads == n_threads, "the blocked path did not run"
    assert ref_opt._flat[0].plan is None
    for a, b in zip(data, ref_data):
        np.testing.assert_array_equal(a, b)
    assert state.keys() == ref_state.keys()
    for key in state:
        np.testing.assert_array_equal(state[key], ref_state[key])
    # each parameter's state entries are its views of the state that the blocks updated
    flat = opt._flat[0]
    for entry, (a, b, shape) in zip(flat.param_states, flat.slices):
        for key in state:
            np.testing.assert_array_equal(entry[key], state[key][a:b].reshape(shape))


@pytest.mark.parametrize("cls,kwargs", [CASES[1], CASES[10]], ids=["sgd", "adam"])
def test_float64_groups_and_lazily_made_state(cls, kwargs, small_blocks, monkeypatch):
    """float64 parameters; state switched on after the first steps (amsgrad, momentum) is made
    by one whole-group step, then the blocks take over, with the reference's numbers."""
    results = []
    for fast in (True, False):
        monkeypatch.setattr(blocked, "num_threads", lambda: 2)
        rng = np.random.default_rng(2)
        params = [nl.tensor(rng.standard_normal(s), requires_grad=True, dtype=np.float64)
                  for s in SHAPES]
        opt = cls(params, **{**kwargs, "amsgrad": False} if "amsgrad" in kwargs else
                  {**kwargs, "momentum": 0.0})
        opt._blocked_update = fast
        for step in range(5):
            if step == 2:  # switch the option on: its state array does not exist yet
                opt.param_groups[0].update(kwargs)
            for p in params:
                p.grad = rng.standard_normal(p.shape)
            opt.step()
        results.append([p.data.copy() for p in params])
        if fast:
            assert opt._flat[0].plan is not None
    for a, b in zip(*results):
        assert a.dtype == np.float64
        np.testing.assert_array_equal(a, b)


def test_small_groups_keep_the_one_call_path(monkeypatch):
    params = [nl.tensor(np.ones((4, 3), np.float32), requires_grad=True)]
    opt = optim.Adam(params)
    params[0].grad = np.ones((4, 3), np.float32)
    opt.step()
    assert opt._flat[0].plan is None


def test_a_block_split_covers_the_range_without_slivers(small_blocks):
    pieces = blocked._split(10, 10 + 64 * 3 + 1, 0, 10)
    assert pieces[0][0] == 10 and pieces[-1][1] == 10 + 64 * 3 + 1
    assert all(lo < hi <= lo + 64 for lo, hi, _, _ in pieces) and len(pieces) == 4
    assert all(b[0] == a[1] for a, b in zip(pieces, pieces[1:]))


def test_thread_count_follows_the_limits(monkeypatch):
    monkeypatch.delenv("NEURALAB_NUM_THREADS", raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "64")
    monkeypatch.setattr(threads, "_blas", None)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    import sys

    monkeypatch.delitem(sys.modules, "threadpoolctl", raising=False)
    assert threads.num_threads() == 4
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert threads.num_threads() == 3
    monkeypatch.setenv("NEURALAB_NUM_THREADS", "2")
    assert threads.num_threads() == 2
    threads.set_num_threads(1)
    try:
        assert threads.num_threads() == 1
    finally:
        threads.set_num_threads(None)
    monkeypatch.delenv("NEURALAB_NUM_THREADS")
    with threads.single_thread_blas():
        assert threads.num_threads() == 1
    assert threads._limit is None
    with pytest.raises(ValueError, match="positive integer"):
        threads.set_num_threads(0)
