"""Normalisation: one spelling for the many ways the same word can be typed (look-alikes, marks, typos)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# ---------------------------------------------------------------------------------------------------------
# Normalisation: one spelling for the many ways the same word can be typed.

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
_BLANKS = re.compile(r"[^\S\n]+")
ALNUM_RUN = re.compile(r"[^\W_]+")

# Look-alike letters. Lower case only: normalisation lower-cases first (so В/B and Н/H become в/b and н/h).
_CYR_TO_LAT = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "к": "k", "м": "m", "т": "t",
    "в": "b", "н": "h", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "ԛ": "q", "ԝ": "w", "п": "n",
    "и": "u", "г": "r", "ь": "b",
}  # fmt: skip
_LAT_TO_CYR = {
    "a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "k": "к", "m": "м", "t": "т",
    "b": "в", "h": "н", "n": "п", "u": "и", "r": "г",
}  # fmt: skip
_GREEK_TO_LAT = {
    "α": "a", "ο": "o", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "η": "n", "β": "b", "γ": "y", "ς": "c", "μ": "u",
}  # fmt: skip
_LOOKALIKES = set(_CYR_TO_LAT) | set(_LAT_TO_CYR) | set(_GREEK_TO_LAT)


def script_of(ch: str) -> str:
    if "a" <= ch <= "z" or "\u00e0" <= ch <= "\u024f":
        return "latin"
    if "\u0400" <= ch <= "\u052f":
        return "cyrillic"
    if "\u0370" <= ch <= "\u03ff":
        return "greek"
    return ""


def _one_script(match: re.Match[str]) -> str:
    """A word mixing scripts is written in its majority script (a Cyrillic «о» inside «ignore»)."""
    word = match.group()
    counts = {"latin": 0, "cyrillic": 0, "greek": 0}
    strong = {"latin": 0, "cyrillic": 0, "greek": 0}  # letters with no look-alike decide a tie
    for ch in word:
        script = script_of(ch)
        if script:
            counts[script] += 1
            strong[script] += ch not in _LOOKALIKES
    if sum(1 for n in counts.values() if n) < 2:
        return word
    latin = (counts["latin"], strong["latin"])
    cyrillic = (counts["cyrillic"], strong["cyrillic"])
    if latin > cyrillic:
        return "".join(_CYR_TO_LAT.get(ch, _GREEK_TO_LAT.get(ch, ch)) for ch in word)
    if cyrillic > latin:
        return "".join(_LAT_TO_CYR.get(_GREEK_TO_LAT.get(ch, ch), ch) for ch in word)
    return word


def _strip_latin_marks(text: str) -> str:
    """Accents off Latin letters («prïce»), kept on Cyrillic ones (й must stay й)."""
    kept: list[str] = []
    base_cyrillic = False
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.category(ch) == "Mn":
            if base_cyrillic:
                kept.append(ch)
            continue
        base_cyrillic = script_of(ch) == "cyrillic"
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def normalise(text: str) -> str:
    """NFKC, invisible characters removed, lower case, ё→е, one script per word, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")  # zero-width, bidi, soft hyphen
    text = _strip_latin_marks(text.lower()).replace("ё", "е").translate(_APOSTROPHES)
    text = _BLANKS.sub(" ", text)
    return ALNUM_RUN.sub(_one_script, text)


def unhidden(text: str) -> str:
    """NFKC, invisible characters removed, case kept: for reading links."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def within_one_edit(a: str, b: str) -> bool:
    """Damerau–Levenshtein (optimal string alignment) distance ≤ 1, without building the matrix."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        i, j = diffs[0], diffs[-1]
        return len(diffs) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def fuzzy_in(token: str, keywords: Iterable[str], never: frozenset[str] = frozenset()) -> str | None:
    """The keyword (5+ letters) the token is one typo away from, unless the token is a real other word."""
    if token in never:
        return None
    for keyword in keywords:
        if len(keyword) >= 5 and abs(len(keyword) - len(token)) <= 1 and within_one_edit(token, keyword):
            return keyword
    return None


WORD = re.compile(r"[^\W\d_]+")
