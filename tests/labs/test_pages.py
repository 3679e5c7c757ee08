"""Every number on a lab page is its stored result: docs/labs/NAME.md's generated block equals
what `neuralab lab run NAME --docs` renders from docs/labs/figures/NAME/result.json, the stored
result is of the lab's current full configuration, and the hand-written prose types no number."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from neuralab import labs
from neuralab.io import to_jsonable
from neuralab.io.pages import blocks, typed_numbers

NAMES = labs.names()


def stored(name: str) -> dict:
    return json.loads(labs.stored_result_path(name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", NAMES)
def test_page_block_is_rendered_from_the_stored_result(name):
    page = labs.page_path(name).read_text(encoding="utf-8")
    block = blocks(page).get("RESULT")
    assert block is not None, f"{labs.page_path(name)} has no generated RESULT block"
    assert block == labs.render_result_block(stored(name)), (
        f"{labs.page_path(name)} differs from its stored result: run "
        f"`neuralab lab run {name} --docs` (do not edit the block by hand)")


@pytest.mark.parametrize("name", NAMES)
def test_stored_result_is_a_full_run_of_the_current_config(name):
    result = stored(name)
    assert result["lab"] == name and result["quick"] is False
    current = json.loads(json.dumps(to_jsonable(dataclasses.asdict(labs.get(name).Config()))))
    assert result["config"] == current, (
        f"docs/labs/figures/{name}/result.json was made with another configuration than the "
        f"lab's defaults: run `neuralab lab run {name} --docs`")
    meta = result["meta"]
    assert meta["commit"] != "unknown" and "kernel" in meta["blas"] and meta["cpu"]
    folder = labs.stored_result_path(name).parent
    for figure in result["figures"]:
        assert (folder / figure).is_file(), figure


@pytest.mark.parametrize("name", NAMES)
def test_prose_types_no_measured_number(name):
    page = labs.page_path(name).read_text(encoding="utf-8")
    assert typed_numbers(page) == [], (
        "numbers typed in the prose of the page; let the lab's summary() print them into the "
        "generated block instead")


@pytest.mark.parametrize("name", NAMES)
def test_every_linked_figure_exists(name):
    page = labs.page_path(name)
    links = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text(encoding="utf-8"))
    assert links, f"{page} shows no figure"
    for link in links:
        assert (page.parent / link).is_file(), link


HANGUL = re.compile("[\uac00-\ud7a3]")
#: pages whose captions are being rewritten in other work in progress (their labs' owners)
CAPTIONS_PENDING = {"augmentation", "augmentation-cnn", "cnn-fashion-mnist"}


@pytest.mark.parametrize("name", [n for n in NAMES if n not in CAPTIONS_PENDING])
def test_every_figure_caption_gives_the_korean_terms(name):
    # the figures themselves carry no Korean (no Korean font for matplotlib here), so the prose
    # after each figure, up to the next figure or heading, names the lecture's terms in Korean
    page = labs.page_path(name).read_text(encoding="utf-8")
    page = re.sub(r"<!-- BEGIN GENERATED.*?<!-- END GENERATED[^>]*-->", "\n## \n", page,
                  flags=re.S)
    parts = re.split(r"(!\[[^\]]*\]\([^)]*\))", page)
    for figure, after in zip(parts[1::2], parts[2::2]):
        caption = re.split(r"\n#+ |!\[", after)[0]
        assert HANGUL.search(caption), f"{labs.page_path(name)}: {figure} has no Korean caption"
