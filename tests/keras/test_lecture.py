"""Every Keras code block of the lecture notes runs on neuralab with only its imports changed.

The blocks are read from ``lecture_blocks.md`` (a verbatim copy of the notes' blocks: the notes
themselves are not in the repository).  The rewrite, applied to the whole text of a block:

    import tensorflow as tf   ->  import neuralab.keras
    tensorflow.keras          ->  neuralab.keras
    tf.keras                  ->  neuralab.keras

Block 1 (``tf.keras.Sequential([layers.Dense(...)])``) prints no imports in the notes; it runs
after the usual Keras imports, ``import tensorflow as tf`` and ``from tensorflow.keras import
layers, initializers``, rewritten by the same rule.  Block 3 (the ``model.fit`` call) runs in the
lecture's iris practical (4.03.NN_iris), whose summary the notes print: that practical is Keras
code below, rewritten by the same rule, plus loading iris with neuralab.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np

BLOCKS_FILE = Path(__file__).with_name("lecture_blocks.md")

KERAS_IMPORTS = "import tensorflow as tf\nfrom tensorflow.keras import layers, initializers\n"

# the lecture's iris practical (4.03.NN_iris) in Keras; X_train ... come from the loading code
IRIS_PRACTICAL = """\
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense

model = Sequential()
model.add(Dense(64, input_dim=4, activation='relu'))
model.add(Dense(3, activation='softmax'))
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
model.summary()
"""

LOAD_IRIS = """\
from neuralab.data import StandardScaler, load_iris, train_test_split
X, y = load_iris()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, rng=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
"""


def rewrite(code: str) -> str:
    """The one change a student makes: the imports (and ``tf.keras``) name neuralab.keras."""
    code = re.sub(r"^import tensorflow as tf$", "import neuralab.keras", code, flags=re.M)
    return code.replace("tensorflow.keras", "neuralab.keras").replace("tf.keras",
                                                                       "neuralab.keras")


def blocks() -> dict[str, str]:
    text = BLOCKS_FILE.read_text(encoding="utf-8")
    found = re.findall(r"^## (Block \d|Output)[^\n]*\n\n```(?:python|text)\n(.*?)^```$", text,
                       flags=re.M | re.S)
    return {name: body for name, body in found}


def run(code: str) -> tuple[dict, str]:
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<lecture block>", "exec"), namespace)  # noqa: S102
    return namespace, out.getvalue()


def test_the_copy_holds_three_blocks_that_use_keras():
    found = blocks()
    assert sorted(found) == ["Block 1", "Block 2", "Block 3", "Output"]
    for name in ("Block 1", "Block 2"):
        assert "keras" in found[name]
    assert "model.fit(" in found["Block 3"]


def test_rewrite_changes_only_the_imports_and_tf_keras():
    code = blocks()["Block 2"]
    new = rewrite(code)
    changed = [(a, b) for a, b in zip(code.splitlines(), new.splitlines()) if a != b]
    assert [a for a, _ in changed] == ["from tensorflow.keras.models import Sequential",
                                       "from tensorflow.keras.layers import Dense"]
    assert rewrite("model = tf.keras.Sequential([])") == "model = neuralab.keras.Sequential([])"


def test_block_1_model_definition_with_initializers():
    namespace, _ = run(rewrite(KERAS_IMPORTS + blocks()["Block 1"]))
    model = namespace["model"]
    first, second = model.layers
    assert (first.units, second.units) == (64, 10)
    assert first.kernel_initializer.__name__ == "xavier_uniform"  # GlorotUniform
    assert second.kernel_initializer.__name__ == "he_normal"      # HeNormal
    assert first.bias_initializer.__name__ == "zeros"
    model.build((None, 4))
    w, b = first.get_weights()
    assert w.shape == (4, 64) and not b.any()
    assert abs(w).max() <= np.sqrt(6 / (4 + 64))                   # Glorot's bound
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]


def test_block_2_prints_each_layers_weights_and_biases():
    namespace, printed = run(rewrite(blocks()["Block 2"]))
    assert "Layer 1: dense\nWeight(shape: (4, 8)): \n[[" in printed
    assert "Layer 2: dense_1\nWeight(shape: (8, 3))" in printed
    assert "bias (shape: (8,)): \n[0. 0. 0. 0. 0. 0. 0. 0.]" in printed
    weights = namespace["model"].layers[0].get_weights()[0]
    assert str(weights) in printed


def _cells(line: str) -> list[str]:
    return re.split(r"\s{2,}|\t", line.strip())


def test_iris_practical_trains_and_prints_the_lectures_summary():
    import neuralab

    neuralab.seed(0)
    code = LOAD_IRIS + rewrite(IRIS_PRACTICAL) + rewrite(blocks()["Block 3"])
    namespace, printed = run(code)
    # every line the notes print is in the printed summary, cell for cell
    lines = [_cells(line) for line in printed.splitlines()]
    for expected in blocks()["Output"].splitlines():
        assert _cells(expected) in lines, expected
    history = namespace["history"].history
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(history["loss"]) == 50
    assert history["loss"][-1] < history["loss"][0] / 3
    # chance is 1/3; over seeds 0-5 the last val_accuracy was 0.77 to 0.87 (Adam at Keras' 1e-3)
    assert history["val_accuracy"][-1] >= 0.7
