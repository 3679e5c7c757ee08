"""Text augmentation (텍스트 데이터 증강): the four operations of EDA (Wei and Zou, "Easy Data
Augmentation", 2019) that the lecture lists: synonym replacement (유의어 교체), random insertion
(임의의 단어 삽입), random deletion (삭제) and random swap.

Each function takes a sentence as a string (split on whitespace and joined back with single
spaces) or as a list of tokens (returned as a new list), and an ``rng`` (``np.random.Generator``,
integer seed, or ``None`` for the library generator).  Synonyms come from a dictionary the user
gives, ``{"good": ["fine", "nice"], "영화": ["필름"]}``: no word list ships with neuralab.

>>> synonym_replacement("a good movie", {"good": ["nice"]}, n=1, rng=0)
'a nice movie'
>>> eda("this movie was really good", {"good": ["great"], "movie": ["film"]}, num_aug=4, rng=0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...random import Seed, get_rng

Text = str | Sequence[str]


def _tokens(text: Any, caller: str) -> tuple[list[str], bool]:
    if isinstance(text, str):
        return text.split(), True
    if isinstance(text, Sequence) and all(isinstance(t, str) for t in text):
        return list(text), False
    raise TypeError(f"{caller} expected a string or a list of string tokens, got "
                    f"{type(text).__name__}")


def _output(tokens: list[str], as_string: bool) -> Any:
    return " ".join(tokens) if as_string else tokens


def _count(n: Any, caller: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{caller} expected a non-negative integer `n`, got {n!r}")
    return int(n)


def _check_synonyms(synonyms: Any, caller: str) -> Mapping[str, Sequence[str]]:
    if not isinstance(synonyms, Mapping):
        raise TypeError(f"{caller} expected `synonyms` as a dict word -> list of synonyms, got "
                        f"{type(synonyms).__name__}")
    return synonyms


def _options(word: str, synonyms: Mapping[str, Sequence[str]]) -> list[str]:
    choices = synonyms.get(word, ())
    if isinstance(choices, str):  # {"good": "nice"} is one synonym, not four letters
        choices = [choices]
    return [s for s in choices if s != word]


def synonym_replacement(text: Text, synonyms: Mapping[str, Sequence[str]], n: int = 1,
                        rng: Seed = None) -> Any:
    """Replace ``n`` distinct words that have synonyms (every occurrence of each) by one of their
    synonyms, chosen at random; fewer if fewer words have synonyms.  The length is unchanged."""
    caller = "synonym_replacement"
    tokens, as_string = _tokens(text, caller)
    synonyms = _check_synonyms(synonyms, caller)
    n = _count(n, caller)
    rng = get_rng(rng)
    candidates = list(dict.fromkeys(t for t in tokens if _options(t, synonyms)))
    order = rng.permutation(len(candidates)) if candidates else []
    for k in order[:n]:
        word = candidates[int(k)]
        options = _options(word, synonyms)
        replacement = options[int(rng.integers(len(options)))]
        tokens = [replacement if t == word else t for t in tokens]
    return _output(tokens, as_string)


def random_insertion(text: Text, synonyms: Mapping[str, Sequence[str]] | None = None, n: int = 1,
                     rng: Seed = None, vocabulary: Sequence[str] | None = None) -> Any:
    """Insert ``n`` words at random positions (length grows by ``n``).

    Each inserted word is a synonym of a random word of the sentence that has one (EDA's rule),
    or, when ``vocabulary`` is given instead, a random word from it.  Without either (or when no
    word has a synonym), a random word of the sentence itself is repeated.
    """
    caller = "random_insertion"
    tokens, as_string = _tokens(text, caller)
    n = _count(n, caller)
    rng = get_rng(rng)
    if synonyms is not None:
        _check_synonyms(synonyms, caller)
    if vocabulary is not None and len(vocabulary) == 0:
        raise ValueError(f"{caller} expected a non-empty `vocabulary`")
    for _ in range(n):
        with_synonyms = [t for t in tokens if synonyms is not None and _options(t, synonyms)]
        if with_synonyms:
            source = with_synonyms[int(rng.integers(len(with_synonyms)))]
            options = _options(source, synonyms or {})
            word = options[int(rng.integers(len(options)))]
        elif vocabulary is not None:
            word = vocabulary[int(rng.integers(len(vocabulary)))]
        elif tokens:
            word = tokens[int(rng.integers(len(tokens)))]
        else:
            break  # nothing to insert into an empty sentence
        tokens.insert(int(rng.integers(len(tokens) + 1)), word)
    return _output(tokens, as_string)


def random_deletion(text: Text, p: float = 0.1, rng: Seed = None) -> Any:
    """Delete each word independently with probability ``p``; if every word would go, one
    random word is kept (a sentence never becomes empty)."""
    caller = "random_deletion"
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{caller} expected a probability `p` in [0, 1], got {p!r}")
    tokens, as_string = _tokens(text, caller)
    if len(tokens) <= 1:
        return _output(tokens, as_string)
    rng = get_rng(rng)
    keep = rng.random(len(tokens)) >= p
    kept = [t for t, k in zip(tokens, keep) if k]
    if not kept:
        kept = [tokens[int(rng.integers(len(tokens)))]]
    return _output(kept, as_string)


def random_swap(text: Text, n: int = 1, rng: Seed = None) -> Any:
    """Swap two words at random positions, ``n`` times (the multiset of words is unchanged)."""
    caller = "random_swap"
    tokens, as_string = _tokens(text, caller)
    n = _count(n, caller)
    if len(tokens) < 2:
        return _output(tokens, as_string)
    rng = get_rng(rng)
    for _ in range(n):
        i, j = rng.choice(len(tokens), size=2, replace=False)
        tokens[i], tokens[j] = tokens[j], tokens[i]
    return _output(tokens, as_string)


def eda(text: Text, synonyms: Mapping[str, Sequence[str]] | None = None, *,
        alpha_sr: float = 0.1, alpha_ri: float = 0.1, alpha_rs: float = 0.1, p_rd: float = 0.1,
        num_aug: int = 4, rng: Seed = None) -> list[Any]:
    """``num_aug`` augmented copies of a sentence, EDA style: the copies cycle through synonym
    replacement, random insertion, random swap and random deletion; each changes
    :math:`n = \\max(1, \\lfloor \\alpha L \\rfloor)` words of a sentence of :math:`L` words
    (random deletion drops each word with probability ``p_rd``).  Without ``synonyms`` only swap
    and deletion are used."""
    if isinstance(num_aug, bool) or not isinstance(num_aug, (int, np.integer)) or num_aug < 0:
        raise ValueError(f"eda expected a non-negative integer `num_aug`, got {num_aug!r}")
    tokens, as_string = _tokens(text, "eda")
    rng = get_rng(rng)
    length = len(tokens)

    def count(alpha: float) -> int:
        return max(1, int(alpha * length))

    ops: list[Any] = []
    if synonyms is not None:
        ops += [lambda t: synonym_replacement(t, synonyms, count(alpha_sr), rng),
                lambda t: random_insertion(t, synonyms, count(alpha_ri), rng)]
    ops += [lambda t: random_swap(t, count(alpha_rs), rng),
            lambda t: random_deletion(t, p_rd, rng)]
    out = [ops[k % len(ops)](list(tokens)) for k in range(int(num_aug))]
    return [_output(t, as_string) for t in out]
