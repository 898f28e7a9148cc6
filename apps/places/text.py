"""Search text of the gazetteer: normalisation, pinyin and the suffixes the SQL pre-filter indexes.

Shared by the services (which store the keys on write) and the selectors (which normalise the
query the same way). OpenCC's t2s table folds traditional to simplified; pypinyin gives the
readings, with its phrase dictionary for the heteronyms (重庆 chóngqìng, 银行 yínháng).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import cast

import opencc
from pypinyin import lazy_pinyin

from .models import KEY_MAX

_T2S = opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """Simplified, lower-case, full-width folded (NFKC), letters and digits only."""
    folded = _T2S.convert(unicodedata.normalize("NFKC", text).lower())
    return "".join(ch for ch in folded if ch.isalnum())


def _split_other(text: str) -> list[str]:
    return list(text)  # a letter or digit outside Chinese counts as one "syllable"


# pypinyin accepts a list from its `errors` callback (one item each); its stubs say str only.
_ERRORS = cast(Callable[[str], str], _split_other)


@lru_cache(maxsize=65536)
def syllables(normalised: str) -> tuple[str, ...]:
    """Toneless pinyin, one item per character (letters and digits stand for themselves)."""
    return tuple(s for s in lazy_pinyin(normalised, errors=_ERRORS) if s)


def pinyin_forms(normalised: str) -> tuple[str, str]:
    """(initials, full pinyin) of a normalised text: 珠市街 → ("zsj", "zhushijie")."""
    syl = syllables(normalised)
    return "".join(s[0] for s in syl), "".join(syl)


def is_pinyin_query(normalised: str) -> bool:
    return normalised.isascii() and any(ch.isalpha() for ch in normalised)


def search_keys(name: str, aliases: list[str]) -> list[str]:
    """Every whole key of a place: its normalised names, then their initials and full pinyin."""
    texts: list[str] = []
    for raw in (name, *aliases):
        text = normalise(raw)
        if text and text not in texts:
            texts.append(text)
    keys = list(texts)
    for text in texts:
        for form in pinyin_forms(text):
            if form and form not in keys:
                keys.append(form)
    return keys


def key_suffixes(name: str, aliases: list[str]) -> set[tuple[str, bool]]:
    """(suffix, is the whole key) rows of PlaceKey for a place, truncated to KEY_MAX.

    Chinese text: a suffix at every character (a fragment anywhere in a name is a prefix of one);
    pinyin: a suffix at every syllable, of the initials and of the full pinyin. Suffixes of one
    character are left out: a one-character query matches the start of a name only.
    """
    rows: set[tuple[str, bool]] = set()
    for raw in (name, *aliases):
        text = normalise(raw)
        if not text:
            continue
        syl = syllables(text)
        initials = "".join(s[0] for s in syl)
        for i in range(len(text)):
            if i == 0 or len(text) - i >= 2:
                rows.add((text[i : i + KEY_MAX], i == 0))
        for i in range(len(syl)):
            tail_initials = initials[i:]
            tail_full = "".join(syl[i:])
            if i == 0 or len(tail_initials) >= 2:
                rows.add((tail_initials[:KEY_MAX], i == 0))
            if i == 0 or len(tail_full) >= 2:
                rows.add((tail_full[:KEY_MAX], i == 0))
    # The same text as a whole key and as a suffix of another: keep the whole-key row only.
    return {(k, s) for k, s in rows if s or (k, True) not in rows}
