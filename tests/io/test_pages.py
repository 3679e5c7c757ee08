import pytest

from neuralab.io.pages import PageError, blocks, prose, replace_block, typed_numbers

PAGE = """# Lab

The gap shrinks (see below), with `lr=0.125` as a setting.

<!-- BEGIN GENERATED RESULT (neuralab lab run x --docs; do not edit) -->
old 0.987
<!-- END GENERATED RESULT -->

```text
0.555 inside code
```
"""


def test_replace_block_swaps_only_the_body():
    new = replace_block(PAGE, "RESULT", "new 0.5\n")
    assert blocks(new) == {"RESULT": "new 0.5\n"}
    assert new.replace("new 0.5\n", "old 0.987\n") == PAGE


def test_missing_or_repeated_blocks_are_errors():
    with pytest.raises(PageError, match="exactly one generated block 'TABLE'"):
        replace_block(PAGE, "TABLE", "x\n")
    twice = PAGE + PAGE.split("\n\n")[2] + "\n"
    with pytest.raises(PageError, match="two generated blocks"):
        blocks(twice)


def test_typed_numbers_are_found_only_in_prose():
    assert typed_numbers(PAGE) == []
    assert "0.987" not in prose(PAGE) and "0.555" not in prose(PAGE) and "0.125" not in prose(PAGE)
    assert typed_numbers("accuracy rose from 0.91 to 93% and 12.5 % later; 1,077 images, 0.5")\
        == ["0.91", "93%", "12.5 %"]
