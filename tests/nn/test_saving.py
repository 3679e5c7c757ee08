"""neuralab.save / neuralab.load and the safetensors helpers of neuralab.io: bit-exact round trips,
interoperability with the `safetensors` package, clear errors for bad files, atomic writes."""

import json
import os
import re
import struct

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import neuralab as nl
from neuralab import nn
from neuralab.io import SafetensorsError, atomic_write, read_safetensors, write_safetensors


def trained_model():
    rng = np.random.default_rng(0)
    model = nn.Sequential([
        nn.Dense(8, input_dim=4, activation="relu", kernel_regularizer=nn.regularizers.L2(1e-3), rng=0),
        nn.BatchNorm(),
        nn.Dropout(0.2),
        nn.Residual(nn.Dense(8, activation=nn.LeakyReLU(0.2), kernel_initializer="he_normal")),
        nn.LayerNorm(),
        nn.Dense(3, activation="softmax"),
    ])
    for _ in range(3):  # moves the BatchNorm running statistics away from 0 and 1
        model(rng.normal(size=(16, 4)))
    return model


def test_round_trip_is_bit_exact(tmp_path):
    model = trained_model()
    path = nl.save(model, tmp_path / "model.safetensors")
    loaded = nl.load(path)
    assert loaded.training  # a loaded model starts in training mode, like a new one
    assert type(loaded) is nn.Sequential and [type(m) for m in loaded] == [type(m) for m in model]
    original, restored = model.state_dict(), loaded.state_dict()
    assert list(original) == list(restored)
    for name in original:
        assert original[name].dtype == restored[name].dtype
        assert original[name].tobytes() == restored[name].tobytes(), name
    x = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    model.eval()
    loaded.eval()
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
    assert loaded[3].module.activation.alpha == 0.2 and loaded[0].kernel_regularizer == nn.regularizers.L2(1e-3)
    assert [m.name for m in loaded] == [m.name for m in model]


def test_saved_file_is_readable_by_the_safetensors_package(tmp_path):
    model = trained_model()
    path = nl.save(model, tmp_path / "model.safetensors")
    theirs = load_file(str(path))
    assert set(theirs) == set(model.state_dict())
    for name, arr in model.state_dict().items():
        np.testing.assert_array_equal(theirs[name], arr)
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    architecture = json.loads(header["__metadata__"]["neuralab.architecture"])
    assert architecture["model"]["class"] == "Sequential"
    assert (8 + n) % 8 == 0  # data aligned as the reference writer does


def test_files_of_the_safetensors_package_are_read(tmp_path):
    arrays = {
        "f64": np.arange(6, dtype=np.float64).reshape(2, 3),
        "f16": np.array([1.5, -2.0], dtype=np.float16),
        "i64": np.array([[-1, 2**40]], dtype=np.int64),
        "i8": np.array([-128, 127], dtype=np.int8),
        "u8": np.array([0, 255], dtype=np.uint8),
        "flag": np.array([True, False, True]),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }
    path = tmp_path / "theirs.safetensors"
    save_file(arrays, str(path), metadata={"source": "safetensors"})
    ours, metadata = read_safetensors(path)
    assert metadata == {"source": "safetensors"}
    for name, arr in arrays.items():
        assert ours[name].dtype == arr.dtype and ours[name].shape == arr.shape, name
        np.testing.assert_array_equal(ours[name], arr)
    # and what we write with the same arrays, they read back identically
    write_safetensors(tmp_path / "ours.safetensors", arrays, {"k": "v"})
    back = load_file(str(tmp_path / "ours.safetensors"))
    for name, arr in arrays.items():
        assert back[name].dtype == arr.dtype
        np.testing.assert_array_equal(back[name], arr)
    assert ours["f64"].flags.writeable


def test_truncated_file_is_a_clear_error(tmp_path):
    path = nl.save(trained_model(), tmp_path / "model.safetensors")
    data = path.read_bytes()
    for cut in (len(data) - 10, 30, 5):
        broken = tmp_path / f"cut{cut}.safetensors"
        broken.write_bytes(data[:cut])
        with pytest.raises(SafetensorsError, match="truncated") as info:
            nl.load(broken)
        assert str(broken) in str(info.value)


def test_corrupted_and_foreign_files_are_clear_errors(tmp_path):
    path = nl.save(trained_model(), tmp_path / "model.safetensors")
    data = bytearray(path.read_bytes())

    flipped = bytearray(data)
    flipped[-3] ^= 0xFF  # one byte of tensor data
    (tmp_path / "flipped.safetensors").write_bytes(bytes(flipped))
    with pytest.raises(SafetensorsError, match="checksum"):
        nl.load(tmp_path / "flipped.safetensors")

    (n,) = struct.unpack("<Q", data[:8])
    garbled = bytearray(data)
    garbled[8 + n // 2] = ord("\x01")  # inside the JSON header
    (tmp_path / "garbled.safetensors").write_bytes(bytes(garbled))
    with pytest.raises(SafetensorsError, match="corrupted header|not a safetensors"):
        nl.load(tmp_path / "garbled.safetensors")

    png = tmp_path / "picture.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(SafetensorsError, match=r"picture\.png: not a safetensors file"):
        nl.load(png)

    text = tmp_path / "notes.txt"
    text.write_text("just some text, long enough to have a header length field")
    with pytest.raises(SafetensorsError, match="notes.txt"):
        nl.load(text)


def test_plain_safetensors_file_is_not_mistaken_for_a_model(tmp_path):
    path = tmp_path / "weights.safetensors"
    save_file({"w": np.ones((2, 2), np.float32)}, str(path))
    with pytest.raises(SafetensorsError, match="without a neuralab architecture"):
        nl.load(path)


def test_weights_that_do_not_fit_the_architecture_name_the_parameter(tmp_path):
    model = nn.Sequential([nn.Dense(3, input_dim=2)])
    path = nl.save(model, tmp_path / "m.safetensors")
    arrays, metadata = read_safetensors(path)
    arrays["0.weight"] = np.zeros((5, 3), np.float32)
    write_safetensors(path, arrays, {k: v for k, v in metadata.items() if k != "neuralab.sha256"})
    with pytest.raises(SafetensorsError, match=r"m\.safetensors.*'0\.weight'"):
        nl.load(path)


def test_custom_layers_round_trip_once_registered(tmp_path):
    @nn.register
    class Affine(nn.Module):
        def __init__(self, size):
            self.size = size
            self.scale = nn.Parameter(np.full(size, 2.0))

        def forward(self, x):
            return x * self.scale

        def get_config(self):
            return {"size": self.size}

    model = nn.Sequential([nn.Dense(3, input_dim=2), Affine(3)])
    model[1].scale.data[...] = [1.0, 2.0, 3.0]
    loaded = nl.load(nl.save(model, tmp_path / "custom.safetensors"))
    np.testing.assert_array_equal(loaded[1].scale.data, [1.0, 2.0, 3.0])

    class Plain(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="register"):
        nl.save(nn.Sequential([Plain()]), tmp_path / "plain.safetensors")
    assert not (tmp_path / "plain.safetensors").exists()


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "model.safetensors"
    atomic_write(path, b"old contents")

    def chunks():
        yield b"new "
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, chunks())
    assert path.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["model.safetensors"]  # no temporary file left behind


def test_save_keeps_the_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    path = nl.save(nn.Sequential([nn.Dense(2, input_dim=2)]), tmp_path / "m.safetensors")
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        nl.save(nn.Sequential([nn.Dense(4, input_dim=4)]), path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.safetensors"]
    assert nl.load(path)[0].units == 2


def test_atomic_write_accepts_arrays_and_keeps_permissions(tmp_path):
    path = tmp_path / "data.bin"
    atomic_write(path, np.arange(4, dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 1, 2, 3])
    os.chmod(path, 0o640)
    atomic_write(path, b"x")
    assert path.stat().st_mode & 0o777 == 0o640
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write(tmp_path / "missing" / "f.bin", b"x")


def test_write_safetensors_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError, match="metadata must map strings to strings"):
        write_safetensors(tmp_path / "a", {"w": np.ones(2)}, {"epochs": 3})
    with pytest.raises(TypeError, match="dtype complex128"):
        write_safetensors(tmp_path / "a", {"w": np.ones(2, dtype=complex)})
    with pytest.raises(ValueError, match="invalid tensor name"):
        write_safetensors(tmp_path / "a", {"__metadata__": np.ones(2)})
    with pytest.raises(TypeError, match="nn.Module"):
        nl.save({"w": np.ones(2)}, tmp_path / "b")


def test_write_json_converts_numpy_and_dataclasses_and_writes_atomically(tmp_path):
    import dataclasses
    import json

    from neuralab.io import write_json

    @dataclasses.dataclass
    class Cfg:
        sizes: tuple = (1, 2)
        lr: float = 0.1

    path = write_json(tmp_path / "out.json", {"cfg": Cfg(), "a": np.arange(3), "x": np.float32(2.5)})
    assert json.loads(path.read_text()) == {"cfg": {"sizes": [1, 2], "lr": 0.1}, "a": [0, 1, 2],
                                            "x": 2.5}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left


# ---------------------------------------------------------------------- crafted files (issue 9)
def _rewrite_header(path, edit):
    """Apply ``edit(header dict)`` to the JSON header of a safetensors file, keeping its data."""
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    edit(header)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + n:])
    return path


def _with_architecture(path, spec):
    def edit(header):
        header["__metadata__"]["neuralab.architecture"] = json.dumps({"model": spec})
    return _rewrite_header(path, edit)


def _peak_bytes(fn):
    """Peak memory NumPy and Python allocate while ``fn`` runs (NumPy reports to tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - returned for the caller's checks
        outcome = err
    else:
        outcome = None
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, outcome


def _dense_spec(units, input_dim, **extra):
    return {"class": "Dense", "config": {"units": units, "input_dim": input_dim, **extra}}


@pytest.mark.parametrize("spec, needle", [
    # the audit's file: 456 bytes whose architecture says Dense(20000, input_dim=20000)
    (_dense_spec(20000, 20000), r"'weight' of shape \(20000, 20000\), the file holds \(2, 3\)"),
    # lazy layers are checked too: their known size must agree with the stored tensor
    (_dense_spec(10**9, None), r"'weight' of shape \('\?', 1000000000\), the file holds \(2, 3\)"),
    # an activation given as a layer spec is a layer like any other
    (_dense_spec(3, 2, activation=_dense_spec(20000, 20000)), r"activation\.weight"),
    # a lazy layer without stored weights stays lazy (before: built at construction, 1.2 GB)
    ({"class": "Sequential", "config": {"layers": [
        _dense_spec(3, 2), _dense_spec(10**8, None)]}}, None),
    ({"class": "BatchNorm", "config": {"num_features": 10**9}}, r"BatchNorm\(num_features=10"),
    ({"class": "BatchNorm2D", "config": {"num_features": 10**9}},
     r"BatchNorm2D\(num_features=10"),
    ({"class": "Conv2D", "config": {"filters": 3, "kernel_size": 2, "in_channels": 10**6}},
     r"'weight' of shape \(3, 1000000, 2, 2\), the file holds \(2, 3\)"),
    ({"class": "Conv2D", "config": {"filters": 10**6, "kernel_size": [300, 300]}},
     r"Conv2D\(filters=1000000, kernel_size=\[300, 300\], in_channels=None\)"),
    ({"class": "LayerNorm", "config": {"normalized_shape": [100000, 100000]}}, r"LayerNorm"),
])
def test_architecture_sizes_are_checked_against_the_tensors_before_any_allocation(
        tmp_path, spec, needle):
    if spec["class"] == "Sequential":
        path = nl.save(nn.Sequential([nn.Dense(3, input_dim=2)]), tmp_path / "m.safetensors")
    else:
        path = nl.save(nn.Dense(3, input_dim=2), tmp_path / "m.safetensors")
    _with_architecture(path, spec)
    assert path.stat().st_size < 1000
    loaded = []
    peak, err = _peak_bytes(lambda: loaded.append(nl.load(path)))
    assert peak < 2_000_000, peak  # before: 1.2 GB and more, allocated and initialized
    if needle is None:
        assert err is None and not loaded[0][1].built
    else:
        assert isinstance(err, SafetensorsError) and str(path) in str(err), err
        assert re.search(needle, str(err)), str(err)


def test_a_weightless_layer_norm_cannot_make_a_sequential_build_a_huge_layer(tmp_path):
    # LayerNorm without weights has no tensor to check its shape against; as the first layer
    # of a Sequential its shape made the constructor run a dummy batch of that shape
    path = nl.save(nn.Sequential([nn.LayerNorm(4, elementwise_affine=False), nn.Dense(3)]),
                   tmp_path / "m.safetensors")
    _with_architecture(path, {"class": "Sequential", "config": {"layers": [
        {"class": "LayerNorm", "config": {"normalized_shape": [30000, 30000],
                                          "elementwise_affine": False}},
        _dense_spec(3, None)]}})
    peak, err = _peak_bytes(lambda: nl.load(path))
    assert err is None or isinstance(err, SafetensorsError), err
    assert peak < 2_000_000, peak  # before: a batch of 30000 x 30000 zeros, normalized


@pytest.mark.parametrize("model", [
    nn.Sequential([nn.LayerNorm(4, elementwise_affine=False), nn.Dense(3), nn.BatchNorm(),
                   nn.Dense(2, activation={"class": "Dense", "config": {"units": 2}})]),
    nn.Sequential([nn.Dense(8), nn.Dense(3)]),             # never built: loads unbuilt
    nn.Sequential([nn.Dense(3, input_dim=2, use_bias=False), nn.BatchNorm(affine=False),
                   nn.Residual(nn.Dense(3)), nn.LayerNorm()]),
], ids=["weightless-layernorm-first", "unbuilt", "no-bias-no-affine"])
def test_models_still_load_as_they_were_saved(tmp_path, model):
    path = nl.save(model, tmp_path / "m.safetensors")
    loaded = nl.load(path)
    assert nn.serialize(loaded) == nn.serialize(model)
    original, restored = model.state_dict(), loaded.state_dict()
    assert list(original) == list(restored)
    for name in original:
        assert original[name].tobytes() == restored[name].tobytes(), name


def _nested(depth):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("edit, needle", [
    (lambda h: h["0.weight"].update(dtype={}), "dtype {}"),
    (lambda h: h["0.weight"].update(dtype=["F32"]), "dtype"),
    (lambda h: h["0.weight"].update(shape=[1] * 65), "65 dimensions"),
    (lambda h: h["0.weight"].update(shape=[0, 2**62, 4]), "too large"),
    (lambda h: h["0.weight"].update(shape=[2**64, 0]), "too large"),
    (lambda h: h.update(__metadata__=None), "__metadata__"),
    (lambda h: h.update(__metadata__=[]), "__metadata__"),
])
def test_crafted_tensor_entries_raise_safetensors_error(tmp_path, edit, needle):
    path = nl.save(nn.Sequential([nn.Dense(3, input_dim=2)]), tmp_path / "m.safetensors")
    _rewrite_header(path, edit)
    with pytest.raises(SafetensorsError, match=needle) as info:
        nl.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("raw", [
    b'{"a": ' + _nested(1000).encode() + b"}",        # RecursionError in json
    b'{"a": {"dtype": "F32", "shape": [' + b"9" * 5000 + b'], "data_offsets": [0, 0]}}',
])
def test_headers_json_cannot_escape_the_error_contract(tmp_path, raw):
    path = tmp_path / "deep.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    with pytest.raises(SafetensorsError, match="deep.safetensors"):
        read_safetensors(path)


@pytest.mark.parametrize("text", [
    '{"model": ' + _nested(1000) + "}",
    '{"model": ' + "9" * 5000 + "}",
    json.dumps({"model": {"class": "Sequential", "config": {"layers": [
        {"class": "Sequential", "config": {"layers": []}}]}}}).replace(
        '{"layers": []}', '{"layers": [' + '{"class": "Sequential", "config": {"layers": [' * 300
        + "]}}" * 300 + "]}"),
])
def test_architecture_json_cannot_escape_the_error_contract(tmp_path, text):
    path = nl.save(nn.Dense(3, input_dim=2), tmp_path / "m.safetensors")
    _rewrite_header(path, lambda h: h["__metadata__"].update({"neuralab.architecture": text}))
    with pytest.raises(SafetensorsError) as info:
        nl.load(path)
    assert str(path) in str(info.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    import threading

    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    outcome = []

    def load():
        try:
            nl.load(fifo)
        except BaseException as err:  # noqa: BLE001 - inspected below
            outcome.append(err)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():  # blocked in open(): give it a writer so that the thread can end
        with open(fifo, "wb"):
            pass
        thread.join(10)
        pytest.fail("nl.load blocked on a FIFO")
    assert isinstance(outcome[0], SafetensorsError), outcome
    assert "named pipe" in str(outcome[0]) and str(fifo) in str(outcome[0])


def test_devices_and_directories_are_refused(tmp_path):
    with pytest.raises(SafetensorsError, match="is a directory"):
        nl.load(tmp_path)
    if os.path.exists("/dev/zero"):
        with pytest.raises(SafetensorsError, match="/dev/zero: is a character device"):
            read_safetensors("/dev/zero")
