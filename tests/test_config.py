"""Config overrides from TOML files and --set: typed, finite, worded as the user wrote them, and
only ConfigError for anything a user can type (property-based)."""

from __future__ import annotations

import dataclasses
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuralab.config import ConfigError, apply_overrides, load_toml, parse_set_options


@dataclasses.dataclass
class Config:
    points: int = 11
    x_min: float = -1.0
    name: str = "sigmoid"
    flag: bool = False
    sizes: tuple[int, ...] = (2, 3)
    pair: tuple[float, float] = (0.5, 1.5)
    names: list[str] = dataclasses.field(default_factory=lambda: ["a"])
    limit: int | None = None


@dataclasses.dataclass
class Checked(Config):
    def __post_init__(self) -> None:
        if self.points < 2:
            raise ValueError(f"points must be at least 2, got {self.points}")


def toml(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return load_toml(path)


def test_set_strings_are_converted_to_the_field_types():
    c = apply_overrides(Config(), parse_set_options([
        "points=5", "x_min=-2.5", "name=tanh", "flag=yes", "sizes=4,5,6", "pair=(1, 2)",
        "names=[x, y]", "limit=none"]))
    assert c == Config(5, -2.5, "tanh", True, (4, 5, 6), (1.0, 2.0), ["x", "y"], None)
    assert apply_overrides(Config(), parse_set_options(["limit=7"])).limit == 7


def test_toml_values_are_checked_against_the_field_types(tmp_path):
    c = apply_overrides(Config(), toml(tmp_path, 'points = 5\nx_min = 3\nsizes = [1]\n'
                                                 'pair = [1, 2.5]\nflag = true\n'))
    assert (c.points, c.x_min, c.sizes, c.pair, c.flag) == (5, 3.0, (1,), (1.0, 2.5), True)
    assert isinstance(c.x_min, float)
    for text, message in [
        ("points = 1.5", r"c.toml: points = 1.5: expected an integer"),  # was a TypeError later
        ("points = true", r"points = true: expected an integer"),
        ("flag = 1", r"flag = 1: expected true or false"),
        ("name = 3", r"name = 3: expected a string \(str\) in quotes"),
        ('x_min = "a"', r'x_min = "a": expected a number'),
        ("sizes = 3", r"sizes = 3: expected an array"),
        ('sizes = [1, "b"]', r'sizes = \[1, "b"\]: expected an integer'),
        ("pair = [1, 2, 3]", r"pair = \[1, 2, 3\]: expected 2 values"),
        ("x_min = nan", r"x_min = nan: expected a finite number"),
        ("x_min = inf", r"x_min = inf: expected a finite number"),
        ("[points]\na = 1", r"points = \{a = 1\}: expected an integer"),
        ("colour = 1", r"config file .*c.toml: unknown setting 'colour'"),
    ]:
        with pytest.raises(ConfigError, match=message) as info:
            apply_overrides(Config(), toml(tmp_path, text))
        assert "--set" not in str(info.value), text  # worded as TOML, not as --set


def test_set_errors_are_worded_as_set():
    for item, message in [("points=1.5", r"^--set points=1.5: expected an integer"),
                          ("x_min=nan", r"^--set x_min=nan: expected a finite number"),
                          ("x_min=1e400", r"^--set x_min=1e400: expected a finite number"),
                          ("flag=maybe", r"^--set flag=maybe: expected true or false"),
                          ("pair=1", r"^--set pair=1: expected 2 values"),
                          ("colour=red", r"^unknown setting 'colour'.*valid settings: flag")]:
        with pytest.raises(ConfigError, match=message):
            apply_overrides(Config(), parse_set_options([item]))
    with pytest.raises(ConfigError, match="key=value"):
        parse_set_options(["points"])


def test_set_wins_over_toml_and_keeps_its_wording(tmp_path):
    overrides = toml(tmp_path, "points = 5\n")
    overrides.update(parse_set_options(["points=x"]))  # what `lab run --config --set` does
    with pytest.raises(ConfigError, match=r"^--set points=x: expected an integer"):
        apply_overrides(Config(), overrides)


def test_a_configs_own_checks_become_a_config_error_naming_the_override(tmp_path):
    with pytest.raises(ConfigError, match=r"points must be at least 2, got 0 "
                                          r"\(from --set points=0\)"):
        apply_overrides(Checked(), parse_set_options(["points=0"]))
    with pytest.raises(ConfigError, match=r"at least 2.*config file .*c.toml: points = 1"):
        apply_overrides(Checked(), toml(tmp_path, "points = 1\n"))


def test_toml_file_errors_name_the_file_and_say_toml(tmp_path):
    with pytest.raises(ConfigError, match="missing.toml does not exist"):
        load_toml(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match=r"c.toml is not valid TOML"):
        toml(tmp_path, "points = = 1\n")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'points = 5\nname = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"latin1.toml is not UTF-8 text \(line 2\)"):
        load_toml(bad)


# --------------------------------------------------------------------- property-based
_SET_KEYS = st.sampled_from([f.name for f in dataclasses.fields(Config)] + ["colour", ""])
_TEXT = st.text(alphabet=string.printable + "é∞\x00", max_size=30)


@settings(max_examples=300, deadline=None)
@given(items=st.lists(st.tuples(_SET_KEYS, _TEXT), max_size=4))
def test_any_set_options_give_a_valid_config_or_a_config_error(items):
    try:
        c = apply_overrides(Checked(), parse_set_options([f"{k}={v}" for k, v in items]))
    except ConfigError:
        return
    assert isinstance(c.points, int) and c.points >= 2
    assert isinstance(c.x_min, float) and abs(c.x_min) < float("inf")
    assert all(isinstance(s, int) for s in c.sizes) and len(c.pair) == 2


_VALID_TOML = ('points = 5\nx_min = -2.0\nname = "tanh"\nflag = true\nsizes = [1, 2]\n'
               'pair = [0.1, 0.2]\nnames = ["p", "q"]\n')


@st.composite
def mutated_toml(draw):
    """The valid file with a few bytes replaced, inserted or deleted."""
    data = bytearray(_VALID_TOML.encode())
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.integers(0, 255))
        if op == "insert" or i == len(data):
            data.insert(i, byte)
        elif op == "replace":
            data[i] = byte
        else:
            del data[i]
    return bytes(data)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(mutated_toml(), st.binary(max_size=80),
                      st.text(max_size=80).map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_any_toml_file_gives_a_valid_config_or_a_config_error(tmp_path, data):
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    try:
        c = apply_overrides(Checked(), load_toml(path))
    except ConfigError:
        return
    assert isinstance(c.points, int) and isinstance(c.flag, bool) and isinstance(c.name, str)
    assert isinstance(c.x_min, float) and abs(c.x_min) < float("inf")
