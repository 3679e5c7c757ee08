import pytest

from neuralab import nn, optim
from neuralab.registry import Registry, normalize
from neuralab.train import get_metric


def test_names_match_without_case_and_separators():
    reg = Registry("shape", {"leaky_square": 1, "circle": 2}, aliases={"round": "circle"})
    for spelling in ("leaky_square", "LeakySquare", "leaky-square", " LEAKY SQUARE "):
        assert reg.lookup(spelling) == 1
    assert reg.lookup("Round") == 2 and "ROUND" in reg and "oval" not in reg
    assert reg.names() == ["circle", "leaky_square"] and reg.aliases() == ["round"]
    assert reg.name_of(2) == "circle" and reg.name_of(3) is None
    assert normalize("Leaky_ReLU-x y") == "leakyreluxy"


def test_unknown_names_suggest_and_list():
    reg = Registry("shape", {"square": 1, "circle": 2})
    with pytest.raises(ValueError, match=r"unknown shape 'sqare' \(did you mean 'square'\?\); "
                                         r"expected one of circle, square"):
        reg.lookup("sqare")
    with pytest.raises(ValueError, match=r"unknown shape 'zzz'; expected one of circle, square"):
        reg.lookup("zzz")
    with pytest.raises(TypeError, match="expected a shape name"):
        reg.lookup(3)
    with pytest.raises(KeyError, match="unknown shape 'nothing'"):
        reg.alias("x", "nothing")


def test_copy_is_independent():
    reg = Registry("shape", {"square": 1})
    other = reg.copy()
    other.register("circle", 2)
    assert "circle" in other and "circle" not in reg


@pytest.mark.parametrize("lookup, spelling, expected", [
    (nn.activations.get, "Leaky-ReLU", nn.LeakyReLU),
    (lambda s: type(nn.regularizers.get(s)), "L1_L2", nn.regularizers.L1L2),
    (lambda s: type(nn.get_loss(s)), "CrossEntropyLoss", nn.CrossEntropyLoss),
    (lambda s: optim.lr_scheduler._resolve(s), "Cosine-Annealing-LR", optim.CosineAnnealingLR),
])
def test_every_registry_of_the_library_reads_names_one_way(lookup, spelling, expected):
    got = lookup(spelling)
    assert (type(got) if not isinstance(got, type) else got) is expected
    assert nn.init.get("Glorot-Uniform") is nn.init.xavier_uniform
    assert get_metric("R2_Score") is get_metric("r2")
