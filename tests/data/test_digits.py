import numpy as np
from sklearn import datasets as skd

from neuralab.data import load_digits


def test_load_digits_scales_the_pixels_to_the_unit_interval():
    X, y = load_digits()
    ref = skd.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X * 16, ref.data)            # pixels 0..16 -> [0, 1]
    np.testing.assert_array_equal(y, ref.target)
    images, y2 = load_digits(images=True)
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    np.testing.assert_array_equal(y2, y)


def test_load_digits_parses_once_and_hands_out_copies():
    X, y = load_digits()
    X[:] = -1.0  # a caller changing its arrays changes nobody else's
    y[:] = 99
    X2, y2 = load_digits()
    assert X2.min() == 0.0 and y2.max() == 9
    assert X2 is not load_digits()[0]
