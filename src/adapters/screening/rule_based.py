"""The built-in screener: a block list per language (a JSON data file shipped with the
package, replaceable by operators) and patterns for personal data — payment handles,
emails, links and phone numbers, local or international.

Words are compared after normalisation, so the usual disguises do not pass: Unicode NFKC
(full-width letters, ligatures), case folding, combining accents and Arabic vowel marks
dropped (``fück``, ``شَرْموطة``), Arabic letter variants unified (أ إ آ → ا, ى → ي, ة → ه),
the Devanagari nukta dropped, invisible characters removed (zero-width joiners, soft
hyphens, tatweel), digits used as letters (``sh1t``), letters spread out (``f u c k``,
``f.u.c.k``) or stretched (``fuuuck``). Matching is by whole words, so ``class`` or
``Scunthorpe`` are not refused for what they contain.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from core.domain.screening import ALLOWED, ScreeningCategory, ScreeningVerdict

ANY_LANGUAGE = "any"
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\u0640"), None)
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه",
                              "ؤ": "و", "ئ": "ي"})  # fmt: skip
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s"})  # fmt: skip
_DEVANAGARI = range(0x0900, 0x0980)
_NUKTA = "\u093c"
_STRETCHED = re.compile(r"(.)\1{2,}")
_REPEATS = re.compile(r"(.)\1+")

_TLDS = (
    "com|net|org|info|biz|io|co|me|ly|app|xyz|site|online|link|shop|top|gg|tv|ng|gh|ke|"
    "za|ug|tz|rw|sn|cm|uk|us|ca|de|fr|in|pk|eg|ma"
)
_PAYMENT = re.compile(
    r"(?:\$[a-z][a-z0-9_]{1,19}\b"  # a Cash App $cashtag
    r"|\b(?:paypal\.me|venmo\.com|cash\.app)/\S+"
    r"|\b(?:venmo|cash\s?app|paypal|zelle|opay|palmpay|kuda|moniepoint|chipper(?:\s?cash)?"
    r"|m-?pesa|momo|mobile\s?money|bank|acct|account|a/c|till|paybill)"
    r"\W{0,3}(?:no\b\.?|number|num|#)?\W{0,3}(?:@[\w.-]{2,}|\d[\d \-]{3,}\d))",
    re.IGNORECASE,
)
_EMAIL = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    rf"|\b[\w.+-]+\s*[\[({{]?\s*\bat\b\s*[\])}}]?\s*[\w-]+\s*[\[({{]?\s*\b(?:dot|\.)\s*"
    rf"[\])}}]?\s*(?:{_TLDS})\b",
    re.IGNORECASE,
)
_URL = re.compile(
    r"(?:https?://|www\.)\S+"
    rf"|\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.(?:{_TLDS})\b(?:/\S*)?"
    rf"|\b[\w-]+\s*[\[(]?\s*\bdot\b\s*[\])]?\s*(?:{_TLDS})\b",
    re.IGNORECASE,
)
# 9 to 15 digits, optionally after + or 00, in groups separated by spaces, dots, dashes,
# slashes or parentheses: +234 803 123 4567, 0803-123-4567, (020) 7946 0958, 08031234567.
_PHONE = re.compile(r"(?<!\w)(?:\+|00)?\d(?:[\s().\-/]{0,2}\d){8,14}(?!\w)")


def _ascii_digits(text: str) -> str:
    """Digits of every script (Arabic-Indic ٠١٢, Devanagari ०१२, full-width …) as 0–9."""
    return "".join(
        str(unicodedata.digit(ch)) if unicodedata.category(ch) == "Nd" else ch for ch in text
    )


def fold(text: str) -> str:
    """The normalised form words are compared in (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_INVISIBLE)
    kept: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.category(ch) == "Mn" and (ord(ch) not in _DEVANAGARI or ch == _NUKTA):
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)).translate(_ARABIC_FOLD)


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN" or ch in "@$"


def tokens(text: str) -> list[str]:
    """Words of the folded text (letters with their marks, digits, and ``@``/``$`` inside
    words); runs of three or more single letters (``f u c k``) are joined into one word."""
    words: list[str] = []
    current: list[str] = []
    for ch in fold(text):
        if _is_word_char(ch):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    words = [_unleet(word) for word in words]
    joined: list[str] = []
    singles: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1:
            singles.append(word)
            continue
        if len(singles) >= 3:
            joined.append("".join(singles))
        else:
            joined.extend(singles)
        singles = []
        if word:
            joined.append(word)
    return joined


def _unleet(word: str) -> str:
    """``sh1t`` → ``shit``; numbers stay numbers."""
    if any(ch.isalpha() for ch in word):
        return word.translate(_LEET)
    return word


def _squeezed(word: str) -> str:
    return _REPEATS.sub(r"\1", word)


@dataclass(frozen=True, slots=True)
class BlockList:
    """Entries as word sequences, plus their stretched-letter-free forms."""

    entries: frozenset[tuple[str, ...]]
    squeezed: frozenset[tuple[str, ...]]
    longest: int

    @classmethod
    def of(cls, words: Iterable[str]) -> BlockList:
        entries = frozenset(tuple(tokens(word)) for word in words if tokens(word))
        return cls(
            entries=entries,
            squeezed=frozenset(tuple(_squeezed(w) for w in entry) for entry in entries),
            longest=max((len(entry) for entry in entries), default=0),
        )

    def hit(self, words: list[str]) -> bool:
        for size in range(1, self.longest + 1):
            for start in range(len(words) - size + 1):
                window = tuple(words[start : start + size])
                if window in self.entries:
                    return True
                if any(_STRETCHED.search(w) for w in window) and (
                    tuple(_squeezed(w) for w in window) in self.squeezed
                ):
                    return True
        return False


class BlockLists:
    """The block list of each language (by primary subtag), and the one for all."""

    def __init__(self, words: Mapping[str, Iterable[str]]) -> None:
        self._lists = {
            language.lower(): BlockList.of(entries)
            for language, entries in words.items()
            if not language.startswith("_")
        }

    def for_language(self, language: str | None) -> list[BlockList]:
        """``any`` plus the language's own; every list when the language is unknown."""
        if language is None:
            return list(self._lists.values())
        primary = language.split("-")[0].lower()
        return [
            found for key in (ANY_LANGUAGE, primary) if (found := self._lists.get(key)) is not None
        ]

    @classmethod
    def load(cls, path: Path | None = None) -> BlockLists:
        """From ``path``, or the list shipped with Chorus. The file maps language codes to
        lists of words or phrases (keys starting with ``_`` are comments)."""
        if path is None:
            text = resources.files(__package__).joinpath("blocklists.json").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        data = json.loads(text)
        if not isinstance(data, dict) or not all(
            isinstance(v, list) and all(isinstance(w, str) for w in v)
            for k, v in data.items()
            if not k.startswith("_")
        ):
            raise ValueError("a block list file maps language codes to lists of words")
        return cls(data)


class RuleBasedScreener:
    """Implements ``core.ports.screening.TextScreener`` with local rules only (no I/O after
    loading the lists, so it cannot be down)."""

    def __init__(self, lists: BlockLists) -> None:
        self._lists = lists

    async def screen(self, text: str, *, language: str | None) -> ScreeningVerdict:
        return self.check(text, language=language)

    def check(self, text: str, *, language: str | None) -> ScreeningVerdict:
        plain = _ascii_digits(unicodedata.normalize("NFKC", text).translate(_INVISIBLE))
        for category, pattern in (
            (ScreeningCategory.PAYMENT_HANDLE, _PAYMENT),
            (ScreeningCategory.EMAIL, _EMAIL),
            (ScreeningCategory.URL, _URL),
            (ScreeningCategory.PHONE_NUMBER, _PHONE),
        ):
            if pattern.search(plain):
                return ScreeningVerdict(category.value)
        words = tokens(text)
        if any(block_list.hit(words) for block_list in self._lists.for_language(language)):
            return ScreeningVerdict(ScreeningCategory.BLOCKED_WORD.value)
        return ALLOWED
