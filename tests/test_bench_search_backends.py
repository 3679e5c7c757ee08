"""The Ray-vs-local search benchmark (bench/search_backends.py): docs/search.md holds what the
stored result renders, and the stored result is of the search the script runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import search_backends as bench  # noqa: E402
from neuralab.io.pages import blocks  # noqa: E402


def test_the_page_holds_what_the_stored_result_renders():
    result = json.loads(bench.RESULT.read_text(encoding="utf-8"))
    page = blocks(bench.PAGE.read_text(encoding="utf-8"))
    assert page.get(bench.BLOCK) == bench.render(result), (
        "docs/search.md: run `python -m bench.search_backends --pages`; do not edit the block")


def test_the_stored_result_is_of_the_search_the_script_runs():
    result = json.loads(bench.RESULT.read_text(encoding="utf-8"))
    assert result["search"] == bench.SEARCH and result["workers"] == 2
    assert result["same_leaderboard"] is True
    runs = result["runs"]
    assert len(runs["local"]) == len(runs["ray"]) == result["repeats"] >= 2
    boards = {json.dumps(r["leaderboard"]) for rs in runs.values() for r in rs}
    assert len(boards) == 1  # every run, on both backends, ranked the same
    for key in ("commit", "cpu", "blas"):
        assert result["machine"][key]
