"""Data augmentation: geometry against np.rot90 / flips / rolls and scipy's resampler, colour
against the blend formulas, reproducibility by seed, the loader hook, and the text operations."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from neuralab import nn, optim
from neuralab.data import DataLoader
from neuralab.data import augment as A
from neuralab.train import Trainer


@pytest.fixture
def grey():
    return np.random.default_rng(0).random((6, 9, 9)).astype(np.float32)


@pytest.fixture
def colour():
    return np.random.default_rng(1).random((5, 8, 8, 3)).astype(np.float32)


# ---------------------------------------------------------------------- geometry: exact cases
@pytest.mark.parametrize("k", [1, 2, 3, -1])
def test_quarter_turns_equal_rot90_exactly(grey, colour, k):
    for x in (grey, colour):
        out = A.rotate(x, 90 * k)
        assert out.dtype == np.float32 and out.shape == x.shape
        np.testing.assert_array_equal(out, np.rot90(x, k, axes=(1, 2)))


def test_random_rotation_with_a_fixed_angle_is_rot90(grey):
    out = A.RandomRotation((90, 90))(grey, rng=0)
    np.testing.assert_array_equal(out, np.rot90(grey, 1, axes=(1, 2)))


def test_identity_maps_are_exact(grey, colour):
    for x in (grey, colour):
        np.testing.assert_array_equal(A.rotate(x, 0), x)
        np.testing.assert_array_equal(A.zoom(x, 1.0), x)
        np.testing.assert_array_equal(A.translate(x, (0, 0)), x)
        np.testing.assert_array_equal(A.RandomAffine()(x, rng=0), x)
        np.testing.assert_array_equal(A.RandomCrop()(x, rng=0), x)
        np.testing.assert_array_equal(A.RandomBrightness(0.0)(x, rng=0), x)


def test_whole_pixel_translation_is_a_shift_with_zero_fill(grey):
    out = A.translate(grey, (2, -3))               # 2 down, 3 left
    expected = np.zeros_like(grey)
    expected[:, 2:, :-3] = grey[:, :-2, 3:]
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(A.translate(grey, (2, -3), fill_mode="wrap"),
                                  np.roll(grey, (2, -3), axis=(1, 2)))
    ones = A.translate(grey, (0, 4), fill_value=1.0)
    assert np.all(ones[:, :, :4] == 1.0)


def test_per_image_shifts(grey):
    shifts = np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [0, 0], [3, 3]])
    out = A.translate(grey, shifts, fill_mode="wrap")
    for i, s in enumerate(shifts):
        np.testing.assert_array_equal(out[i], np.roll(grey[i], tuple(s), axis=(0, 1)))


def test_flips(grey, colour):
    for x in (grey, colour):
        np.testing.assert_array_equal(A.RandomHorizontalFlip(p=1.0)(x, rng=0), x[:, :, ::-1])
        np.testing.assert_array_equal(A.RandomVerticalFlip(p=1.0)(x, rng=0), x[:, ::-1])
        np.testing.assert_array_equal(A.RandomHorizontalFlip(p=0.0)(x, rng=0), x)
    batch = np.random.default_rng(2).random((400, 4, 4)).astype(np.float32)
    out = A.RandomHorizontalFlip()(batch, rng=3)
    flipped = np.all(out == batch[:, :, ::-1], axis=(1, 2))
    kept = np.all(out == batch, axis=(1, 2))
    assert np.all(flipped ^ kept)                   # every image is one or the other
    assert 160 < flipped.sum() < 240                # p = 0.5


def test_input_is_never_modified(grey):
    before = grey.copy()
    out = A.RandomHorizontalFlip(p=1.0)(grey, rng=0)
    out[:] = -1
    A.Compose([A.RandomAffine(20, 0.2, 0.2), A.GaussianNoise(0.1)])(grey, rng=0)
    np.testing.assert_array_equal(grey, before)


# ---------------------------------------------------------------------- geometry: scipy oracle
SCIPY_MODES = {"constant": "grid-constant", "nearest": "nearest", "reflect": "reflect",
               "wrap": "grid-wrap"}


@pytest.mark.parametrize("fill_mode", list(SCIPY_MODES))
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_warp_matches_scipy_map_coordinates(fill_mode, interpolation):
    from scipy import ndimage
    rng = np.random.default_rng(5)
    x = rng.random((4, 7, 10)).astype(np.float64)
    matrices = A.affine_matrices((7, 10), angle=rng.uniform(-40, 40, 4),
                                 scale=rng.uniform(0.7, 1.4, 4), shift=rng.uniform(-3, 3, (4, 2)))
    out = A.affine_warp(x, matrices, interpolation=interpolation, fill_mode=fill_mode,
                        fill_value=0.25)
    rows, cols = np.mgrid[0:7, 0:10].astype(np.float64)
    for i in range(4):
        src = np.einsum("ij,jhw->ihw", matrices[i], np.stack([rows, cols, np.ones_like(rows)]))
        if interpolation == "nearest":
            src = np.floor(src + 0.5)               # round half up, as affine_warp
        expected = ndimage.map_coordinates(x[i], src, order=1, mode=SCIPY_MODES[fill_mode],
                                           cval=0.25)
        np.testing.assert_allclose(out[i], expected, atol=1e-12)


def test_affine_matrices_follow_the_formula():
    # zoom by 2 about the centre c: output p samples the input at c + (p - c) / 2
    m = A.affine_matrices((5, 9), scale=2.0, n=1)[0]
    c = np.array([2.0, 4.0])
    for p in ([0, 0], [4, 8], [1, 7]):
        np.testing.assert_allclose(m[:, :2] @ p + m[:, 2], c + (np.array(p) - c) / 2)
    # rotation by +30 degrees is counter-clockwise on screen: the pixel right of the centre
    # moves up (to a smaller row)
    img = np.zeros((1, 21, 21), np.float32)
    img[0, 10, 18] = 1.0
    out = A.rotate(img, 30)
    r, k = np.unravel_index(np.argmax(out[0]), out[0].shape)
    assert (r, k) == (10 - round(8 * np.sin(np.pi / 6)), 10 + round(8 * np.cos(np.pi / 6)))


# ---------------------------------------------------------------------- crop
def test_random_crop_outputs_are_windows_of_the_padded_image(grey):
    crop = A.RandomCrop(padding=2)
    out = crop(grey, rng=7)
    padded = np.pad(grey, ((0, 0), (2, 2), (2, 2)))
    offsets = set()
    for i in range(len(grey)):
        hits = [(a, b) for a in range(5) for b in range(5)
                if np.array_equal(out[i], padded[i, a:a + 9, b:b + 9])]
        assert hits, f"image {i} is not a window of its padded image"
        offsets.add(hits[0])
    assert len(offsets) > 1                         # per-image positions
    small = A.RandomCrop(size=(4, 6))(grey, rng=0)
    assert small.shape == (6, 4, 6)
    with pytest.raises(ValueError, match="does not fit"):
        A.RandomCrop(size=12)(grey, rng=0)
    with pytest.raises(ValueError, match="p=1"):
        A.RandomCrop(size=4, p=0.5)(grey, rng=0)


# ---------------------------------------------------------------------- colour
def test_brightness_contrast_saturation_formulas(colour):
    f = np.array([0.5, 1.0, 1.3, 0.0, 2.0])
    luma = colour @ np.array([0.299, 0.587, 0.114])
    fb = f[:, None, None, None]
    np.testing.assert_allclose(A.adjust_brightness(colour, f), np.clip(fb * colour, 0, 1),
                               atol=1e-6)
    mean = luma.mean(axis=(1, 2))[:, None, None, None]
    np.testing.assert_allclose(A.adjust_contrast(colour, f),
                               np.clip(fb * colour + (1 - fb) * mean, 0, 1), atol=1e-6)
    np.testing.assert_allclose(A.adjust_saturation(colour, f),
                               np.clip(fb * colour + (1 - fb) * luma[..., None], 0, 1),
                               atol=1e-6)
    # saturation 0 is the grey image in every channel
    grey3 = A.adjust_saturation(colour, 0.0)
    np.testing.assert_allclose(grey3[..., 0], grey3[..., 2], atol=1e-7)


def test_contrast_of_grey_images_uses_their_mean(grey):
    out = A.adjust_contrast(grey, 0.0)
    np.testing.assert_allclose(out, np.broadcast_to(grey.mean(axis=(1, 2), keepdims=True),
                                                    grey.shape), atol=1e-6)


def test_random_colour_transforms_stay_in_range_and_keep_dtype(colour):
    t = A.Compose([A.RandomBrightness(0.9), A.RandomContrast(0.9), A.RandomSaturation(0.9),
                   A.GaussianNoise(0.3)])
    out = t(colour, rng=0)
    assert out.dtype == np.float32 and out.min() >= 0.0 and out.max() <= 1.0
    geometric = A.RandomAffine(45, 0.3, 0.5)(colour, rng=0)
    assert geometric.min() >= 0.0 and geometric.max() <= 1.0


def test_random_factors_are_drawn_per_image_in_range():
    x = np.full((500, 2, 2), 0.5, np.float32)
    out = A.RandomBrightness(0.2)(x, rng=0)[:, 0, 0] / 0.5   # the factor of each image
    assert 0.8 <= out.min() and out.max() <= 1.2
    assert out.std() > 0.1                           # U(0.8, 1.2) has std 0.115
    assert abs(out.std() - 0.4 / np.sqrt(12)) < 0.01


def test_saturation_needs_colour(grey):
    with pytest.raises(ValueError, match="colour images"):
        A.RandomSaturation(0.5)(grey, rng=0)


def test_gaussian_noise_has_the_requested_std():
    x = np.full((50, 20, 20), 0.5, np.float32)
    noise = A.GaussianNoise(0.05, clip=False)(x, rng=0) - x
    assert abs(noise.std() - 0.05) < 0.002 and abs(noise.mean()) < 0.002


# ---------------------------------------------------------------------- randomness
def test_same_seed_same_output_and_each_image_gets_its_own_parameters():
    x = np.repeat(np.random.default_rng(0).random((1, 10, 10)).astype(np.float32), 8, axis=0)
    t = A.Compose([A.RandomAffine(20, 0.1, 0.1), A.RandomBrightness(0.3)])
    a, b, c = t(x, rng=3), t(x, rng=3), t(x, rng=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # identical inputs, different outputs: parameters are per sample
    assert len({a[i].tobytes() for i in range(8)}) == 8


def test_library_seed_controls_the_default_generator():
    import neuralab

    x = np.random.default_rng(0).random((4, 6, 6)).astype(np.float32)
    neuralab.seed(11)
    a = A.RandomRotation(30)(x)
    neuralab.seed(11)
    np.testing.assert_array_equal(a, A.RandomRotation(30)(x))


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        A.RandomRotation(10)(np.zeros((28, 28), np.float32), rng=0)
    with pytest.raises(TypeError, match="float images"):
        A.RandomRotation(10)(np.zeros((2, 28, 28), np.uint8), rng=0)
    with pytest.raises(ValueError, match="fill_mode"):
        A.RandomAffine(10, fill_mode="mirror")
    with pytest.raises(ValueError, match="probability"):
        A.RandomHorizontalFlip(p=1.5)


# ---------------------------------------------------------------------- the loader hook
def test_augmented_loader_transforms_inputs_only_and_keeps_alignment():
    n = 50
    x = np.arange(n, dtype=np.float32)[:, None, None] * np.ones((1, 3, 4), np.float32) / n
    y = np.arange(n)
    loader = A.AugmentedLoader((x, y), A.RandomHorizontalFlip(p=1.0), batch_size=16, rng=0)
    assert len(loader) == 4 and loader.num_samples == n
    seen = []
    for xb, yb in loader:
        # a flip of a constant image is itself: each input still belongs to its label
        np.testing.assert_array_equal(np.rint(xb[:, 0, 0] * n), yb.astype(np.float32))
        seen.extend(yb.tolist())
    assert sorted(seen) == list(range(n))


def test_augmented_loader_flattened_rows_and_fresh_draws_each_epoch():
    rng = np.random.default_rng(0)
    x = rng.random((20, 36)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    loader = A.AugmentedLoader((x, y), A.RandomRotation(20), batch_size=20, shuffle=False,
                               rng=1, image_shape=(6, 6))
    (e1, _), = list(loader)
    (e2, _), = list(loader)
    assert e1.shape == (20, 36) and not np.array_equal(e1, e2)
    again = A.AugmentedLoader((x, y), A.RandomRotation(20), batch_size=20, shuffle=False,
                              rng=1, image_shape=(6, 6))
    np.testing.assert_array_equal(next(iter(again))[0], e1)
    # the same generator drives shuffling and augmentation
    assert loader.rng is loader.loader.rng
    wrapped = A.AugmentedLoader(DataLoader((x, y), batch_size=5), A.RandomRotation(5), rng=2,
                                image_shape=(6, 6))
    assert len(wrapped) == 4


def test_augmented_loader_trains_with_the_trainer():
    rng = np.random.default_rng(0)
    x = rng.random((64, 16)).astype(np.float32)
    y = (x[:, :8].sum(axis=1) > x[:, 8:].sum(axis=1)).astype(np.int64)
    model = nn.Sequential([nn.Dense(8, activation="relu", input_dim=16), nn.Dense(2)])
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01))
    loader = A.AugmentedLoader((x, y), A.GaussianNoise(0.01), batch_size=16, rng=0,
                               image_shape=(4, 4))
    history = trainer.fit(loader, validation_data=(x, y), epochs=3, verbose=0)
    assert len(history.history["val_loss"]) == 3


# ---------------------------------------------------------------------- text
SYN = {"good": ["great", "fine"], "movie": ["film"], "very": ["really"]}
SENTENCE = "this movie was very good and the movie was long"


def test_synonym_replacement():
    out = A.synonym_replacement(SENTENCE, SYN, n=2, rng=0).split()
    src = SENTENCE.split()
    assert len(out) == len(src)
    changed = {(a, b) for a, b in zip(src, out) if a != b}
    assert len({a for a, _ in changed}) == 2        # two distinct words replaced
    assert all(b in SYN[a] for a, b in changed)
    # every occurrence of a replaced word changes the same way
    assert len({b for a, b in changed if a == "movie"}) <= 1
    assert A.synonym_replacement("no synonyms here", SYN, n=3, rng=0) == "no synonyms here"


def test_random_insertion():
    tokens = SENTENCE.split()
    out = A.random_insertion(tokens, SYN, n=3, rng=1)
    assert isinstance(out, list) and len(out) == len(tokens) + 3
    extra = Counter(out) - Counter(tokens)
    assert sum(extra.values()) == 3
    assert all(w in {s for v in SYN.values() for s in v} for w in extra)
    vocab = A.random_insertion("a b", n=2, rng=0, vocabulary=["zz"]).split()
    assert vocab.count("zz") == 2 and len(vocab) == 4


def test_random_deletion():
    tokens = SENTENCE.split()
    out = A.random_deletion(tokens, p=0.5, rng=0)
    it = iter(tokens)
    assert all(w in it for w in out)                # an ordered subsequence
    assert 0 < len(out) < len(tokens)
    assert A.random_deletion(tokens, p=0.0, rng=0) == tokens
    assert len(A.random_deletion(tokens, p=1.0, rng=0)) == 1   # never empty
    lengths = [len(A.random_deletion(tokens, p=0.3, rng=s)) for s in range(300)]
    assert abs(np.mean(lengths) - 0.7 * len(tokens)) < 0.3


def test_random_swap_keeps_the_words():
    out = A.random_swap(SENTENCE, n=3, rng=0)
    assert sorted(out.split()) == sorted(SENTENCE.split()) and out != SENTENCE


def test_text_ops_are_reproducible_and_eda_cycles_operations():
    assert A.eda(SENTENCE, SYN, num_aug=8, rng=5) == A.eda(SENTENCE, SYN, num_aug=8, rng=5)
    out = A.eda(SENTENCE, SYN, num_aug=4, rng=0)
    n = len(SENTENCE.split())
    assert [len(s.split()) for s in out[:3]] == [n, n + 1, n]   # SR, RI, RS
    assert len(out[3].split()) <= n                               # RD
    assert A.eda(SENTENCE.split(), None, num_aug=2, rng=0)[0] != SENTENCE.split()
    with pytest.raises(TypeError, match="string"):
        A.random_swap(42, rng=0)


def test_the_examples_of_docs_augmentation_run(capsys):
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "augmentation.md"
    blocks = re.findall(r"^```python\n(.*?)^```$", page.read_text(encoding="utf-8"),
                        flags=re.S | re.M)
    assert len(blocks) == 3
    for code in blocks:
        exec(compile(code, "docs/augmentation.md example", "exec"), {"__name__": "__doc__"})
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 6 and out[0] != "그 영화 는 정말 좋았다"
