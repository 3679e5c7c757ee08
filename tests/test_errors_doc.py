"""The numbers and messages quoted in the command-line section of docs/errors.md are the ones the
code has and prints (docs are not typed by hand)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from neuralab import cli
from neuralab.data import load_csv
from neuralab.data.datasets.tabular import MAX_TARGET_CELL
from neuralab.apps.tabular import BYTES_PER_PARAMETER, TabularConfig, TrainingDiverged, train_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
HEADING = "## The command line: exit codes, run directories, bad input"


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(HEADING)
    end = text.find("\n## ", start + len(HEADING))
    return text[start:] if end < 0 else text[start:end]


def test_the_exit_code_table_is_the_clis():
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", section(), flags=re.M))
    assert {int(code) for code in rows} == {cli.EXIT_OK, cli.EXIT_CLAIM_FAILED,
                                            cli.EXIT_USER_ERROR, cli.EXIT_DIVERGED,
                                            cli.EXIT_INTERRUPTED}
    assert "diverged" in rows[str(cli.EXIT_DIVERGED)] and "user error" in rows[
        str(cli.EXIT_USER_ERROR)] and "claim" in rows[str(cli.EXIT_CLAIM_FAILED)]


def test_the_limits_quoted_are_the_codes():
    text = " ".join(section().split())
    assert f"over {MAX_TARGET_CELL} characters" in text
    assert f"a field over {csv.field_size_limit() // 1024} KiB" in text
    assert f"at {BYTES_PER_PARAMETER} bytes per parameter" in text
    default = TabularConfig(data="x", target="y").max_memory_gb
    args = cli.build_parser().parse_args(["train", "x", "--target", "y"])
    assert cli.train_config(args).max_memory_gb == default
    assert f"(default {default:g} GB)" in text


def test_the_messages_quoted_are_printed(tmp_path):
    text = " ".join(section().split())
    path = tmp_path / "latin1.csv"
    path.write_bytes("a;y\n1;2\n\n3;caf\u00e9\n".encode("latin-1"))
    quoted = re.search(r"\(`(line \d+ is not UTF-8 text \(byte .*?\))`\)", text).group(1)
    with pytest.raises(ValueError) as info:
        load_csv(path, target="y")
    assert quoted in str(info.value)

    block = re.search(r"(neuralab: error: training diverged: .*?), \.\.\. ```", text).group(1)
    data = tmp_path / "t.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 5},{i * 3 % 7}\n" for i in range(1, 61)))
    with pytest.raises(TrainingDiverged) as info:
        train_table(TabularConfig(data=str(data), target="y", task="regression", epochs=5,
                                  lr=1e30, verbose=0))
    assert f"neuralab: error: {info.value}".startswith(block)
