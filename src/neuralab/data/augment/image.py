"""Image augmentation (이미지 데이터 증강) on NumPy batches.

Images are floats in [0, 1], as a batch of shape (N, H, W) (grey) or (N, H, W, C) (channels
last).  Every random transform draws its parameters **per sample** from the ``rng`` passed to the
call, so one batch holds N different variants; the work itself is vectorized over the batch.

Geometry (회전, 확대/축소, 이동) goes through one resampler, :func:`affine_warp`: each output pixel
``(row, col)`` is mapped back to a source position ``A @ (row, col, 1)`` and the input is
sampled there (bilinear or nearest), so rotation, zoom and translation compose into a single
interpolation.  Pixels whose source falls outside the image get ``fill_value`` (``"constant"``),
the nearest edge pixel (``"nearest"``), the mirrored image (``"reflect"``, d c b a | a b c d) or
the periodic image (``"wrap"``).

Colour (밝기, 대비, 채도) follows the blend formulas of torchvision's ``adjust_*`` functions,
``out = clip(f * x + (1 - f) * reference, 0, 1)`` with the reference black (brightness), the mean
grey level (contrast) or the grey image (saturation).

>>> augment = Compose([RandomRotation(15), RandomCrop(padding=2), RandomHorizontalFlip()])
>>> batch = augment(images, rng=0)        # (N, 28, 28) -> (N, 28, 28), a new variant per sample
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...random import Seed, get_rng

FILL_MODES = ("constant", "nearest", "reflect", "wrap")
INTERPOLATIONS = ("bilinear", "nearest")
# ITU-R 601-2 luma, as PIL and torchvision convert RGB to grey
_LUMA = (0.299, 0.587, 0.114)


# ---------------------------------------------------------------------- helpers
def _as_batch(images: Any, caller: str) -> tuple[np.ndarray, bool]:
    """Images as (N, H, W, C) (a view, no copy) and whether a channel axis was added."""
    x = np.asarray(images)
    if x.ndim not in (3, 4):
        hint = "; for one image pass images[None]" if x.ndim == 2 else ""
        raise ValueError(f"{caller} expected a batch of images of shape (N, H, W) or "
                         f"(N, H, W, C), got shape {x.shape}{hint}")
    if x.dtype.kind != "f":
        raise TypeError(f"{caller} expected float images in [0, 1], got dtype {x.dtype}; convert "
                        f"with images.astype(np.float32) / 255")
    if x.ndim == 3:
        return x[..., None], True
    return x, False


def _restore(x: np.ndarray, squeeze: bool) -> np.ndarray:
    return x[..., 0] if squeeze else x


def _per_sample(value: Any, n: int, name: str, caller: str) -> np.ndarray:
    """A scalar or one value per sample, as a float64 array of shape (n,)."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        return np.full(n, float(a))
    if a.shape != (n,):
        raise ValueError(f"{caller} expected `{name}` as a number or one value per image "
                         f"({n},), got shape {a.shape}")
    return a


def _check_choice(value: str, options: Sequence[str], name: str, caller: str) -> str:
    if value not in options:
        raise ValueError(f"{caller} expected `{name}` in {list(options)}, got {value!r}")
    return value


def _symmetric_range(value: Any, name: str, caller: str, center: float = 0.0,
                     minimum: float | None = None) -> tuple[float, float]:
    """``d`` -> ``(center - d, center + d)``; a pair is taken as ``(low, high)``."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{caller} expected a non-negative `{name}`, got {value}")
        low, high = center - float(value), center + float(value)
    else:
        try:
            low, high = (float(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"{caller} expected `{name}` as a number or a pair (low, high), "
                             f"got {value!r}") from None
        if low > high:
            raise ValueError(f"{caller} expected `{name}` as (low, high) with low <= high, got "
                             f"{value!r}")
    if minimum is not None:
        if high < minimum:
            raise ValueError(f"{caller}: `{name}`={value!r} leaves no value >= {minimum}")
        low = max(low, minimum)
    return low, high


def _pair(value: Any, name: str, caller: str) -> tuple[float, float]:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value), float(value)
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{caller} expected `{name}` as a number or a pair, got {value!r}") \
            from None
    return a, b


def rgb_to_grayscale(images: Any) -> np.ndarray:
    """Grey level ``0.299 R + 0.587 G + 0.114 B`` (ITU-R 601-2, as PIL/torchvision) of a batch
    (N, H, W, 3), keeping a channel axis: shape (N, H, W, 1)."""
    x, _ = _as_batch(images, "rgb_to_grayscale")
    if x.shape[-1] != 3:
        raise ValueError(f"rgb_to_grayscale expected colour images (N, H, W, 3), got shape "
                         f"{np.shape(images)}")
    luma = np.asarray(_LUMA, dtype=x.dtype)
    return (x @ luma)[..., None]


# ---------------------------------------------------------------------- geometry
def affine_matrices(shape: tuple[int, int], angle: Any = 0.0, scale: Any = 1.0,
                    shift: Any = (0.0, 0.0), n: int | None = None) -> np.ndarray:
    """Inverse affine maps (N, 2, 3) for :func:`affine_warp`: rotate by ``angle`` degrees
    counter-clockwise, zoom by ``scale`` (>1 enlarges the content) about the image centre, then
    move the content by ``shift = (down, right)`` pixels.

    With centre :math:`c = ((H-1)/2, (W-1)/2)`, the forward map of a point :math:`p = (r, k)` is
    :math:`p' = c + t + s R_\\theta (p - c)`, so the output pixel :math:`p'` samples the input at

    .. math:: p = c + \\tfrac{1}{s} R_\\theta^{-1} (p' - c - t),\\qquad
              R_\\theta^{-1} = \\begin{pmatrix}\\cos\\theta & \\sin\\theta \\\\
                                                -\\sin\\theta & \\cos\\theta\\end{pmatrix}

    in (row, column) coordinates (rows grow downwards, so a counter-clockwise turn on screen is
    this sign pattern).  Every argument is a number or one value per image; ``shift`` is a pair
    or an (N, 2) array.
    """
    height, width = shape
    shift_arr = np.asarray(shift, dtype=np.float64)
    sizes = [np.size(angle), np.size(scale), shift_arr.size // 2]
    count = n if n is not None else max(sizes)
    theta = np.deg2rad(_per_sample(angle, count, "angle", "affine_matrices"))
    s = _per_sample(scale, count, "scale", "affine_matrices")
    if np.any(s <= 0):
        raise ValueError(f"affine_matrices expected positive `scale`, got {s[s <= 0][0]}")
    t = np.broadcast_to(shift_arr, (count, 2)) if shift_arr.ndim <= 1 else shift_arr
    if t.shape != (count, 2):
        raise ValueError(f"affine_matrices expected `shift` as (down, right) or ({count}, 2), "
                         f"got shape {shift_arr.shape}")
    cos, sin = np.cos(theta) / s, np.sin(theta) / s
    lin = np.empty((count, 2, 2))
    lin[:, 0, 0], lin[:, 0, 1], lin[:, 1, 0], lin[:, 1, 1] = cos, sin, -sin, cos
    center = np.array([(height - 1) / 2.0, (width - 1) / 2.0])
    # offset = c - L (c + t): a constant per image
    offset = center - np.einsum("nij,nj->ni", lin, center + t)
    out = np.concatenate([lin, offset[:, :, None]], axis=2)
    # cos(90 deg) is 6e-17, not 0: snapping entries within 1e-9 of an integer makes quarter
    # turns, flips and whole-pixel shifts exact copies instead of near-copies
    nearest = np.rint(out)
    return np.where(np.abs(out - nearest) < 1e-9, nearest, out)


def _map_index(index: np.ndarray, size: int, fill_mode: str) -> np.ndarray:
    """Integer source indices moved inside [0, size) by the boundary rule ("nearest": clipped to
    the edge; "constant" is handled by the caller with a frame of fill values)."""
    if fill_mode == "wrap":
        return np.mod(index, size)
    if fill_mode == "reflect":
        index = np.mod(index, 2 * size)
        return np.where(index >= size, 2 * size - 1 - index, index)
    return np.clip(index, 0, size - 1)


def affine_warp(images: Any, matrices: Any, *, interpolation: str = "bilinear",
                fill_mode: str = "constant", fill_value: float = 0.0) -> np.ndarray:
    """Resample each image through its own inverse affine map.

    Args:
        images: (N, H, W) or (N, H, W, C) floats.
        matrices: (2, 3) or (N, 2, 3); output pixel :math:`(r, k)` takes the input value at
            :math:`(r_s, k_s) = A\\,(r, k, 1)^T` (see :func:`affine_matrices`).
        interpolation: ``"bilinear"``: the four neighbours of the source point weighted by
            :math:`(1-a)(1-b), (1-a)b, a(1-b), ab` with :math:`a, b` its fractional row and
            column; ``"nearest"``: the closest pixel.
        fill_mode: value of pixels outside the input: ``"constant"`` (``fill_value``),
            ``"nearest"`` (edge), ``"reflect"`` (d c b a | a b c d | d c b a), ``"wrap"``.
        fill_value: the constant for ``fill_mode="constant"``.

    Returns an array of the input's shape and dtype.  An identity map, a quarter turn of a square
    image or a whole-pixel shift reproduces the pixels exactly.
    """
    caller = "affine_warp"
    x, squeeze = _as_batch(images, caller)
    _check_choice(interpolation, INTERPOLATIONS, "interpolation", caller)
    _check_choice(fill_mode, FILL_MODES, "fill_mode", caller)
    n, height, width, channels = x.shape
    a = np.asarray(matrices, dtype=np.float64)
    if a.shape == (2, 3):
        a = np.broadcast_to(a, (n, 2, 3))
    if a.shape != (n, 2, 3):
        raise ValueError(f"{caller} expected `matrices` of shape (2, 3) or ({n}, 2, 3), got "
                         f"{np.shape(matrices)}")
    # coordinates in at least float32 (float16 could not address a 28 x 28 grid sub-pixel finely)
    dtype = np.promote_types(x.dtype, np.float32)
    a = a.astype(dtype)
    rows = np.arange(height, dtype=dtype)[None, :, None]
    cols = np.arange(width, dtype=dtype)[None, None, :]
    src_r = a[:, 0, 0, None, None] * rows + a[:, 0, 1, None, None] * cols + a[:, 0, 2, None, None]
    src_c = a[:, 1, 0, None, None] * rows + a[:, 1, 1, None, None] * cols + a[:, 1, 2, None, None]
    if fill_mode == "constant":
        # A one-pixel frame of fill_value around each image: clipping indices into the frame
        # turns every outside neighbour into the fill, without masks.
        x = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=fill_value)
    padded_h, padded_w = x.shape[1:3]
    # grey images gather from a 1-D array: one element per index is the fastest take
    flat = x.reshape(-1) if channels == 1 else x.reshape(-1, channels)
    base = (np.arange(n) * (padded_h * padded_w))[:, None, None]

    def row_index(r: np.ndarray) -> np.ndarray:
        if fill_mode == "constant":
            return base + np.clip(r + 1, 0, height + 1) * padded_w
        return base + _map_index(r, height, fill_mode) * padded_w

    def col_index(c: np.ndarray) -> np.ndarray:
        if fill_mode == "constant":
            return np.clip(c + 1, 0, width + 1)
        return _map_index(c, width, fill_mode)

    if interpolation == "nearest":
        r0 = np.floor(src_r + 0.5).astype(np.intp)
        c0 = np.floor(src_c + 0.5).astype(np.intp)
        out = np.take(flat, row_index(r0) + col_index(c0), axis=0)
    else:
        fr, fc = np.floor(src_r), np.floor(src_c)
        wr, wc = src_r - fr, src_c - fc
        if channels > 1:
            wr, wc = wr[..., None], wc[..., None]
        r0, c0 = fr.astype(np.intp), fc.astype(np.intp)
        top_rows, bottom_rows = row_index(r0), row_index(r0 + 1)
        left, right = col_index(c0), col_index(c0 + 1)
        top = np.take(flat, top_rows + left, axis=0)
        top += wc * (np.take(flat, top_rows + right, axis=0) - top)
        bottom = np.take(flat, bottom_rows + left, axis=0)
        bottom += wc * (np.take(flat, bottom_rows + right, axis=0) - bottom)
        # a weight of exactly 0 leaves `top` untouched, so integer sources are exact copies
        bottom -= top
        bottom *= wr
        out = top
        out += bottom
    out = out.astype(x.dtype, copy=False)
    return _restore(out.reshape(n, height, width, channels), squeeze)


def rotate(images: Any, angle: Any, **warp_options: Any) -> np.ndarray:
    """Rotate each image by ``angle`` degrees (number or one per image) counter-clockwise about
    its centre; ``rotate(x, 90)`` of square images equals ``np.rot90(x, 1, axes=(1, 2))``.
    Options as :func:`affine_warp`."""
    x = np.asarray(images)
    _as_batch(x, "rotate")
    m = affine_matrices(x.shape[1:3], angle=angle, n=len(x))
    return affine_warp(x, m, **warp_options)


def zoom(images: Any, scale: Any, **warp_options: Any) -> np.ndarray:
    """Zoom each image about its centre by ``scale`` (확대/축소): >1 enlarges the content and
    cuts the border, <1 shrinks it and fills the border (``fill_mode``)."""
    x = np.asarray(images)
    _as_batch(x, "zoom")
    m = affine_matrices(x.shape[1:3], scale=scale, n=len(x))
    return affine_warp(x, m, **warp_options)


def translate(images: Any, shift: Any, **warp_options: Any) -> np.ndarray:
    """Move the content of each image by ``shift = (down, right)`` pixels (a pair or an (N, 2)
    array); whole-pixel shifts with ``fill_mode="constant"`` equal ``np.roll`` with the wrapped
    pixels replaced by ``fill_value``."""
    x = np.asarray(images)
    _as_batch(x, "translate")
    m = affine_matrices(x.shape[1:3], shift=shift, n=len(x))
    return affine_warp(x, m, **warp_options)


# ---------------------------------------------------------------------- colour
def _blend(x: np.ndarray, reference: Any, factor: np.ndarray) -> np.ndarray:
    f = factor.astype(x.dtype).reshape(-1, 1, 1, 1)
    out = f * x
    out += (1 - f) * reference
    return np.clip(out, 0.0, 1.0, out=out)


def adjust_brightness(images: Any, factor: Any) -> np.ndarray:
    """Brightness (밝기): :math:`\\mathrm{clip}(f x, 0, 1)`; ``factor`` is a number or one per
    image (0 gives black, 1 the image)."""
    x, squeeze = _as_batch(images, "adjust_brightness")
    f = _per_sample(factor, len(x), "factor", "adjust_brightness")
    return _restore(_blend(x, 0.0, f), squeeze)


def adjust_contrast(images: Any, factor: Any) -> np.ndarray:
    """Contrast (대비): :math:`\\mathrm{clip}(f x + (1 - f)\\,\\bar g, 0, 1)` with
    :math:`\\bar g` the mean grey level of each image (0 gives a flat grey image)."""
    x, squeeze = _as_batch(images, "adjust_contrast")
    f = _per_sample(factor, len(x), "factor", "adjust_contrast")
    grey = rgb_to_grayscale(x) if x.shape[-1] == 3 else x
    mean = grey.mean(axis=(1, 2, 3), keepdims=True, dtype=np.float64).astype(x.dtype)
    return _restore(_blend(x, mean, f), squeeze)


def adjust_saturation(images: Any, factor: Any) -> np.ndarray:
    """Saturation (채도) of colour images (N, H, W, 3):
    :math:`\\mathrm{clip}(f x + (1 - f)\\,g, 0, 1)` with :math:`g` the grey image (0 gives
    grey, >1 more vivid colours)."""
    x, squeeze = _as_batch(images, "adjust_saturation")
    if x.shape[-1] != 3:
        raise ValueError(f"adjust_saturation expected colour images (N, H, W, 3), got shape "
                         f"{np.shape(images)}; saturation has no meaning for grey images")
    f = _per_sample(factor, len(x), "factor", "adjust_saturation")
    return _restore(_blend(x, rgb_to_grayscale(x), f), squeeze)


# ---------------------------------------------------------------------- random transforms
class Transform:
    """Base of the random transforms: ``transform(images, rng=None)`` returns a new batch.

    Each image is transformed with probability ``p`` (drawn per image; the others are copied
    unchanged) using parameters drawn per image.  ``rng`` is a ``np.random.Generator`` or an
    integer seed; ``None`` draws from the library generator (:func:`neuralab.seed`).
    Subclasses define ``_apply(x, rng)`` on an (M, H, W, C) batch.
    """

    def __init__(self, p: float = 1.0) -> None:
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"{type(self).__name__} expected a probability `p` in [0, 1], got "
                             f"{p!r}")
        self.p = float(p)

    def __call__(self, images: Any, rng: Seed = None) -> np.ndarray:
        x, squeeze = _as_batch(images, type(self).__name__)
        rng = get_rng(rng)
        if self.p >= 1.0:
            return _restore(self._apply(x, rng), squeeze)
        chosen = np.flatnonzero(rng.random(len(x)) < self.p)
        out = x.copy()
        if len(chosen):
            changed = self._apply(x[chosen], rng)
            if changed.shape[1:] != x.shape[1:]:
                raise ValueError(f"{type(self).__name__} changes the image size to "
                                 f"{changed.shape[1:3]}, so it cannot leave some images "
                                 f"unchanged; use p=1")
            out[chosen] = changed
        return _restore(out, squeeze)

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def _options(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self._options()
        p = "" if self.p == 1.0 else f"p={self.p}"
        inner = ", ".join(s for s in (extra, p) if s)
        return f"{type(self).__name__}({inner})"


class Compose:
    """Apply transforms in order, all drawing from the same generator.

    >>> augment = Compose([RandomAffine(degrees=10, translate=0.1), RandomBrightness(0.2)])
    >>> out = augment(images, rng=np.random.default_rng(0))

    Any callable ``f(images, rng)`` can be a step.
    """

    def __init__(self, transforms: Sequence[Callable[..., np.ndarray]]) -> None:
        transforms = list(transforms)
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"Compose expected callables f(images, rng), got "
                                f"{type(t).__name__} at position {i}")
        self.transforms = transforms

    def __call__(self, images: Any, rng: Seed = None) -> np.ndarray:
        rng = get_rng(rng)
        x = images
        for t in self.transforms:
            x = t(x, rng)
        return np.asarray(x)

    def __repr__(self) -> str:
        inner = ", ".join(repr(t) for t in self.transforms)
        return f"Compose([{inner}])"


class RandomAffine(Transform):
    """Random rotation, zoom and translation in one resampling (one interpolation blur, not
    three).

    Per image: angle :math:`\\theta \\sim U(\\text{degrees})` (counter-clockwise), scale
    :math:`s \\sim U(\\text{scale})`, shift :math:`t_r \\sim U(\\pm f_r H)`,
    :math:`t_k \\sim U(\\pm f_k W)` pixels; then :func:`affine_warp` with
    :func:`affine_matrices`.

    Args:
        degrees: ``d`` for :math:`[-d, d]`, or ``(low, high)``.
        translate: largest shift as a fraction of the size, one number or ``(rows, cols)``.
        scale: ``z`` for :math:`[1-z, 1+z]`, or ``(low, high)``; ``None`` keeps the size.
        interpolation, fill_mode, fill_value: as :func:`affine_warp`.
        p: probability of transforming each image.

    >>> RandomAffine(degrees=10, translate=0.1, scale=0.1)(images, rng=0).shape == images.shape
    True
    """

    def __init__(self, degrees: Any = 0.0, translate: Any = 0.0, scale: Any = None, *,
                 interpolation: str = "bilinear", fill_mode: str = "constant",
                 fill_value: float = 0.0, p: float = 1.0) -> None:
        super().__init__(p)
        name = type(self).__name__
        self.degrees = _symmetric_range(degrees, "degrees", name)
        fr, fc = _pair(translate, "translate", name)
        if not (0.0 <= fr <= 1.0 and 0.0 <= fc <= 1.0):
            raise ValueError(f"{name} expected `translate` as fractions of the size in [0, 1], "
                             f"got {translate!r}")
        self.translate = (fr, fc)
        self.scale = (1.0, 1.0) if scale is None else _symmetric_range(scale, "scale", name,
                                                                       center=1.0)
        if self.scale[0] <= 0:
            raise ValueError(f"{name} expected scales above 0, got the range {self.scale}")
        self.interpolation = _check_choice(interpolation, INTERPOLATIONS, "interpolation", name)
        self.fill_mode = _check_choice(fill_mode, FILL_MODES, "fill_mode", name)
        self.fill_value = float(fill_value)

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, height, width = x.shape[:3]
        angle = rng.uniform(*self.degrees, size=n)
        scale = rng.uniform(*self.scale, size=n)
        fr, fc = self.translate
        shift = np.stack([rng.uniform(-fr * height, fr * height, size=n),
                          rng.uniform(-fc * width, fc * width, size=n)], axis=1)
        m = affine_matrices((height, width), angle=angle, scale=scale, shift=shift, n=n)
        return affine_warp(x, m, interpolation=self.interpolation, fill_mode=self.fill_mode,
                           fill_value=self.fill_value)

    def _options(self) -> str:
        return (f"degrees={self.degrees}, translate={self.translate}, scale={self.scale}, "
                f"fill_mode={self.fill_mode!r}")


class RandomRotation(RandomAffine):
    """Random rotation (이미지 회전) by an angle drawn per image from ``[-degrees, degrees]``
    (or ``(low, high)``), counter-clockwise, about the centre.

    >>> RandomRotation(15)(images, rng=0)
    """

    def __init__(self, degrees: Any = 15.0, **options: Any) -> None:
        super().__init__(degrees=degrees, **options)

    def _options(self) -> str:
        return f"degrees={self.degrees}, fill_mode={self.fill_mode!r}"


class RandomZoom(RandomAffine):
    """Random scaling (이미지 확대/축소) about the centre by a factor drawn per image from
    ``[1 - scale, 1 + scale]`` (or ``(low, high)``); >1 enlarges the content.

    >>> RandomZoom(0.1)(images, rng=0)
    """

    def __init__(self, scale: Any = 0.1, **options: Any) -> None:
        super().__init__(scale=scale, **options)

    def _options(self) -> str:
        return f"scale={self.scale}, fill_mode={self.fill_mode!r}"


class RandomTranslation(RandomAffine):
    """Random shift (이동) by up to ``translate`` of the height and width (one fraction or
    ``(rows, cols)``), drawn per image; sub-pixel shifts are interpolated.

    >>> RandomTranslation(0.1)(images, rng=0)
    """

    def __init__(self, translate: Any = 0.1, **options: Any) -> None:
        super().__init__(translate=translate, **options)

    def _options(self) -> str:
        return f"translate={self.translate}, fill_mode={self.fill_mode!r}"


_PAD_MODES = {"constant": "constant", "nearest": "edge", "reflect": "symmetric", "wrap": "wrap"}


class RandomCrop(Transform):
    """Random crop (이미지 크롭): pad each side by ``padding`` pixels, then cut a window of
    ``size`` at a random whole-pixel position per image (the CIFAR recipe of padding 4 and
    cropping back to 32 x 32).  The pixels are copied, never interpolated.

    Args:
        size: ``(height, width)`` or one number for a square; default the input's size.
        padding: pixels added on every side (``fill_mode`` as :func:`affine_warp`).

    >>> RandomCrop(padding=2)(images, rng=0).shape == images.shape
    True
    """

    def __init__(self, size: Any = None, padding: int = 0, *, fill_mode: str = "constant",
                 fill_value: float = 0.0, p: float = 1.0) -> None:
        super().__init__(p)
        name = type(self).__name__
        if size is not None:
            h, w = _pair(size, "size", name)
            if h != int(h) or w != int(w) or h < 1 or w < 1:
                raise ValueError(f"{name} expected `size` as positive integers, got {size!r}")
            size = (int(h), int(w))
        self.size = size
        if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
            raise ValueError(f"{name} expected a non-negative integer `padding`, got {padding!r}")
        self.padding = int(padding)
        self.fill_mode = _check_choice(fill_mode, FILL_MODES, "fill_mode", name)
        self.fill_value = float(fill_value)

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, height, width, _ = x.shape
        h, w = self.size or (height, width)
        p = self.padding
        if h > height + 2 * p or w > width + 2 * p:
            raise ValueError(f"RandomCrop: a {h} x {w} crop does not fit in {height} x {width} "
                             f"images padded by {p}")
        if p:
            mode = _PAD_MODES[self.fill_mode]
            extra = {"constant_values": self.fill_value} if mode == "constant" else {}
            x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode=mode, **extra)
        top = rng.integers(0, x.shape[1] - h + 1, size=n)
        left = rng.integers(0, x.shape[2] - w + 1, size=n)
        rows = top[:, None, None] + np.arange(h)[None, :, None]
        cols = left[:, None, None] + np.arange(w)[None, None, :]
        return x[np.arange(n)[:, None, None], rows, cols]

    def _options(self) -> str:
        return f"size={self.size}, padding={self.padding}"


class RandomHorizontalFlip(Transform):
    """Mirror left-right (``x[..., ::-1]`` along the width) with probability ``p`` per image."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return x[:, :, ::-1].copy()  # a copy: the caller may change the batch in place


class RandomVerticalFlip(Transform):
    """Mirror top-bottom with probability ``p`` per image (rarely label-preserving: not for
    digits or clothes)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return x[:, ::-1].copy()


class _RandomFactor(Transform):
    _adjust: Callable[[Any, Any], np.ndarray]
    _what = "factor"

    def __init__(self, factor: Any = 0.2, p: float = 1.0) -> None:
        super().__init__(p)
        # as torchvision's ColorJitter: f ~ U(max(0, 1 - b), 1 + b)
        self.factor = _symmetric_range(factor, self._what, type(self).__name__, center=1.0,
                                       minimum=0.0)

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        f = rng.uniform(*self.factor, size=len(x))
        return type(self)._adjust(x, f)

    def _options(self) -> str:
        return f"{self._what}={self.factor}"


class RandomBrightness(_RandomFactor):
    """Brightness (밝기) factor drawn per image from ``[1 - b, 1 + b]`` (or ``(low, high)``),
    applied as :func:`adjust_brightness`."""

    _adjust = staticmethod(adjust_brightness)
    _what = "brightness"


class RandomContrast(_RandomFactor):
    """Contrast (대비) factor drawn per image from ``[1 - c, 1 + c]`` (or ``(low, high)``),
    applied as :func:`adjust_contrast`."""

    _adjust = staticmethod(adjust_contrast)
    _what = "contrast"


class RandomSaturation(_RandomFactor):
    """Saturation (채도) factor drawn per image from ``[1 - s, 1 + s]`` (or ``(low, high)``),
    applied as :func:`adjust_saturation` (colour images only)."""

    _adjust = staticmethod(adjust_saturation)
    _what = "saturation"


class GaussianNoise(Transform):
    """Add :math:`\\varepsilon \\sim \\mathcal N(0, \\sigma^2)` to every pixel, then clip to
    [0, 1] (unless ``clip=False``): the sensor noise the lecture lists among real-world
    variations."""

    def __init__(self, std: float = 0.05, clip: bool = True, p: float = 1.0) -> None:
        super().__init__(p)
        if not std >= 0:
            raise ValueError(f"GaussianNoise expected a non-negative `std`, got {std!r}")
        self.std = float(std)
        self.clip = bool(clip)

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = rng.standard_normal(x.shape, dtype=np.float32 if x.dtype == np.float32
                                  else np.float64).astype(x.dtype, copy=False)
        out *= x.dtype.type(self.std)
        out += x
        return np.clip(out, 0.0, 1.0, out=out) if self.clip else out

    def _options(self) -> str:
        return f"std={self.std}"
