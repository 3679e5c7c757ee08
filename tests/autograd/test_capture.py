"""The captured training step (neuralab.autograd.capture and Trainer(capture=True)): a replay
gives the same numbers bit for bit as the normal path, it is really used where it applies, and
it is refused where replaying recorded ops would be wrong."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn, optim
from neuralab.autograd import capture as cap
from neuralab.autograd.ops.linalg import matmul
from neuralab.train import Trainer


def _data(n=96, d=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, classes, n)
    return x, y


def _fit(model_fn, loss_fn, capture, x, y, epochs=4, opt="adam", batch_size=16):
    nl.seed(0)
    model = model_fn()
    model(x[:2])
    optimizer = (optim.Adam(model.parameters(), lr=1e-2) if opt == "adam"
                 else optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    trainer = Trainer(model, loss_fn(), optimizer, capture=capture, rng=0)
    history = trainer.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return trainer, model, history


def _captured_mlp(x, y):
    """A small MLP after three epochs of Trainer.fit, and its captured step."""
    nl.seed(0)
    model = MODELS["relu_mlp"]()
    model(x[:2])
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()), rng=0)
    trainer.fit(x, y, epochs=3, batch_size=16, verbose=0)
    return model, trainer._step[1]


MODELS = {
    "relu_mlp": lambda: nn.Sequential([nn.Dense(16, activation="relu"), nn.Dense(3)]),
    "deep_tanh": lambda: nn.Sequential([nn.Dense(8, activation="tanh"),
                                        nn.Dense(8, activation="sigmoid"),
                                        nn.Dense(8), nn.LeakyReLU(0.1), nn.Dense(3)]),
    "l2_penalty": lambda: nn.Sequential([nn.Dense(16, activation="relu",
                                                  kernel_regularizer=nn.regularizers.L2(1e-3)),
                                         nn.Dense(3)]),
    "flatten": lambda: nn.Sequential([nn.Flatten(), nn.Dense(12, activation="gelu"),
                                      nn.Dense(3)]),
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("opt", ["adam", "sgd"])
def test_captured_fit_equals_normal_fit_bit_for_bit(name, opt):
    x, y = _data()
    if name == "flatten":
        x = x.reshape(len(x), 5, 1)
    t1, m1, h1 = _fit(MODELS[name], nn.CrossEntropyLoss, True, x, y, opt=opt)
    t2, m2, h2 = _fit(MODELS[name], nn.CrossEntropyLoss, False, x, y, opt=opt)
    assert t1._step is not None and t1._step[1].replays > 0  # the replay really ran
    assert t2._step is None
    for (n1, p1), (n2, p2) in zip(m1.named_parameters(), m2.named_parameters()):
        assert n1 == n2 and np.array_equal(p1.data, p2.data), n1
    assert h1.history == h2.history


def test_regression_with_mse_is_captured_and_equal():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((80, 4)).astype(np.float32)
    y = (x @ rng.standard_normal((4, 2))).astype(np.float32)
    model = lambda: nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(2)])  # noqa: E731
    t1, m1, h1 = _fit(model, nn.MSELoss, True, x, y)
    _, m2, h2 = _fit(model, nn.MSELoss, False, x, y)
    assert t1._step[1].replays > 0
    assert all(np.array_equal(a.data, b.data) for a, b in zip(m1.parameters(), m2.parameters()))
    assert h1.history == h2.history


@pytest.mark.parametrize("model_fn", [
    lambda: nn.Sequential([nn.Dense(8, activation="relu"), nn.Dropout(0.5), nn.Dense(3)]),
    lambda: nn.Sequential([nn.Dense(8), nn.BatchNorm(), nn.ReLU(), nn.Dense(3)]),
])
def test_layers_with_randomness_or_state_are_not_captured(model_fn):
    """Dropout draws a mask and BatchNorm updates running statistics outside ops: a replay would
    freeze the mask or skip the update."""
    x, y = _data()
    trainer, _, _ = _fit(model_fn, nn.CrossEntropyLoss, True, x, y, epochs=2)
    assert trainer._step is None


def test_subclass_that_overrides_forward_is_not_captured():
    class Noisy(nn.Dense):
        def forward(self, x):
            return super().forward(x + np.random.default_rng().standard_normal(x.shape))

    assert not nn.Sequential([Noisy(3)]).is_capturable()
    assert nn.Sequential([nn.Dense(3)]).is_capturable()


def test_replay_still_checks_the_labels():
    """A label out of range in a later epoch is refused as in the normal path, not read as an
    index from the end."""
    x, y = _data(n=32)
    model, step = _captured_mlp(x, y)
    assert step.captured(x[:16], y[:16])
    bad = y[:16].copy()
    bad[3] = -1
    with pytest.raises(IndexError, match="class index -1 is out of range for 3 classes"):
        step(x[:16], bad)


def test_a_constant_made_from_the_batch_refuses_the_capture():
    """A step function that turns the batch into a new array outside an op records a
    different constant each time: it must never be replayed."""
    w = nl.tensor(np.ones((3, 2), np.float32), requires_grad=True)

    def fn(x):
        shifted = x + 1.0  # NumPy, outside the graph: a new array every call
        out = nl.tensor(shifted) @ w
        return (out.sum(),)

    step = cap.CapturedStep(fn)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.standard_normal((4, 3)).astype(np.float32)
        w.grad = None
        step(x)
        assert np.allclose(w.grad, (x + 1.0).sum(axis=0)[:, None] * np.ones((1, 2)))
    assert step.replays == 0 and not step.captured(x)


def test_shared_weight_and_diamond_accumulate_like_the_engine():
    """A weight used twice and an intermediate used by two ops: the replay adds the gradient
    contributions in the engine's order (bitwise equal)."""
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((4, 4)).astype(np.float32)

    def run(captured):
        w = nl.tensor(w0.copy(), requires_grad=True)

        def fn(x):
            h = nl.tanh(matmul(x, w))  # the batch array itself enters the op
            z = (h @ w) * h + h.sum(axis=1, keepdims=True) * (h @ w)
            return (z, (z * z).mean())

        step = cap.CapturedStep(fn) if captured else None
        grads = []
        for k in range(5):
            x = rng_x[k]
            w.grad = None
            if captured:
                step(x)
            else:
                fn(x)[-1].backward()
            grads.append(w.grad.copy())
        return grads, step

    rng_x = [rng.standard_normal((6, 4)).astype(np.float32) for _ in range(5)]
    plain, _ = run(False)
    replayed, step = run(True)
    assert step.replays == 3
    for a, b in zip(plain, replayed):
        assert np.array_equal(a, b)


def test_frozen_parameter_stops_the_replay():
    """A parameter switched to requires_grad=False after the capture gets no gradient."""
    x, y = _data(n=32)
    model, step = _captured_mlp(x, y)
    first = model.parameters()[0]
    first.requires_grad = False
    first.grad = None
    before = step.replays
    step(x[:16], y[:16])
    assert step.replays == before and first.grad is None


def test_a_trained_trainer_copies_without_its_captured_step():
    import copy

    x, y = _data(n=32)
    nl.seed(0)
    model = MODELS["relu_mlp"]()
    model(x[:2])
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()), rng=0)
    trainer.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert trainer._step is not None
    twin = copy.deepcopy(trainer)
    assert twin._step is None
    twin.fit(x, y, epochs=3, batch_size=16, verbose=0)  # records its own
    assert twin._step[1].replays > 0


def test_numba_that_fails_falls_back_to_numpy_with_a_warning(monkeypatch):
    """An installed numba that cannot compile (a broken install) must not stop training."""
    from neuralab import kernels
    from neuralab.kernels import nn as dense_kernels

    def broken(fn):
        raise ImportError("numba needs NumPy < 2.5")

    monkeypatch.setattr(kernels, "_compile", broken)
    monkeypatch.setattr(kernels, "_available", None)
    monkeypatch.setattr(kernels, "_from_env", None)
    fresh = kernels.LazyKernel(dense_kernels.relu.py_func)
    out = np.array([[-1.0, 2.0]], dtype=np.float32)
    with pytest.warns(RuntimeWarning, match="numba failed .*numba needs NumPy < 2.5.*NumPy path"):
        fresh(out, np.float32(0))
    assert np.array_equal(out, [[0.0, 2.0]])  # the call itself was served
    assert not kernels.enabled()


def test_gradients_accumulate_without_zero_grad_as_in_the_normal_path():
    """A replay writes a layer's gradients into arrays it keeps between steps; a gradient still
    held by a parameter (no zero_grad: accumulation over several batches) must not be
    overwritten."""
    x, y = _data(n=64)
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]

    def grads(captured: bool) -> list[np.ndarray]:
        nl.seed(0)
        model = MODELS["relu_mlp"]()
        model(x[:2])
        loss_fn = nn.CrossEntropyLoss()

        def forward(xb, yb):
            out = model(xb)
            return out, loss_fn(out, yb)

        step = cap.CapturedStep(forward)
        seen = []
        for epoch in range(3):
            for p in model.parameters():
                p.grad = None
            for xb, yb in batches:  # four batches accumulate into one gradient
                if captured:
                    step(xb, yb)
                else:
                    forward(xb, yb)[-1].backward()
            seen += [p.grad.copy() for p in model.parameters()]
        assert (step.replays > 0) == captured
        return seen

    for a, b in zip(grads(True), grads(False)):
        assert np.array_equal(a, b)


def test_ops_of_another_thread_stay_out_of_a_recording():
    import threading

    w = nl.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    started, release = threading.Event(), threading.Event()

    def other():
        started.set()
        release.wait(5)
        nl.tanh(nl.tensor(np.ones((2, 2), np.float32), requires_grad=True)).sum().backward()

    def fn(x):
        started.wait(5)
        release.set()  # the other thread runs its ops while this one records
        h = nl.tanh(matmul(x, w))
        for _ in range(2000):  # give the other thread time to run inside the recording
            h = h * 1.0
        return (h.sum(),)

    thread = threading.Thread(target=other)
    thread.start()
    raw = []
    cap.RECORDING.current = raw
    try:
        fn(np.ones((4, 3), np.float32))
    finally:
        cap.RECORDING.current = None
        thread.join()
    assert all(entry[0].__name__ in ("MatMul", "Tanh", "Mul", "Sum") for entry in raw)
    assert len(raw) == 1 + 1 + 2000 + 1


def test_a_leaf_input_of_a_dense_op_keeps_its_accumulated_gradient():
    """The dense op's input gradient goes to a leaf when its input is a parameter (an
    embedding, a learned input); while that leaf still holds last step's gradient, the replay
    must not write this step's into the same array."""
    from neuralab.autograd.ops.linalg import linear

    rng = np.random.default_rng(7)
    a0 = rng.standard_normal((5, 3)).astype(np.float32)
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    xs = [rng.standard_normal((5, 4)).astype(np.float32) for _ in range(6)]

    def grads(captured: bool) -> list[np.ndarray]:
        a = nl.tensor(a0.copy(), requires_grad=True)
        w = nl.tensor(w0.copy(), requires_grad=True)

        def fn(x):
            return ((linear(a, w) * x).sum(),)

        step = cap.CapturedStep(fn)
        seen = []
        for k, x in enumerate(xs):
            w.grad = None  # w is cleared every step, a only at the first replay: it then
            if k == 2:     # holds the replay's own array, and accumulates into it after
                a.grad = None
            if captured:
                step(x)
            else:
                fn(x)[-1].backward()
            seen.append(a.grad.copy())
        assert (step.replays > 0) == captured
        return seen

    for plain, replayed in zip(grads(False), grads(True)):
        assert np.array_equal(plain, replayed)
