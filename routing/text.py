"""Normalize informal Indonesian complaint text and mask the personal data it carries.

Complaints arrive as citizens type them: double-escaped HTML from the LAPOR! export, shouting,
stretched letters ("tolooong"), SMS spellings ("sy blm trima") and, very often, NIK, phone,
BPJS and account numbers. Masking replaces those with placeholder tokens so that nothing stored
or displayed leaks them and so that the router learns "[NIK]" as one feature instead of millions
of unique numbers. Numbers and addresses are found however they are written (in groups, in
brackets, in full-width digits, joined by zero-width characters, "nama (at) gmail.com"): the
rules read a folded copy of the text and their spans are mapped back to the text as written.
Every regex is compiled once here and written so that it cannot backtrack catastrophically:
the service must cope with any text a citizen pastes (`benchmarks/masking.py` times the worst).
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from routing.datafiles import data_file

__all__ = [
    "DEFAULT_LEXICON_PATH",
    "DEFAULT_STOPWORDS_PATH",
    "MASK_TOKENS",
    "TextNormalizer",
    "as_texts",
    "clean_html",
    "find_personal_data",
    "load_lexicon",
    "load_stopwords",
    "mask_personal_data",
    "near_duplicate_groups",
]

MASK_TOKENS: dict[str, str] = {
    "url": "[URL]",
    "email": "[EMAIL]",
    "phone": "[TELEPON]",
    "nik": "[NIK]",
    "bpjs": "[BPJS]",
    "npwp": "[NPWP]",
    "plate": "[NOPOL]",
    "number": "[NOMOR]",
}

DEFAULT_LEXICON_PATH: Path = data_file("lexicon_id.tsv")
DEFAULT_STOPWORDS_PATH: Path = data_file("stopwords.txt")

_LEXICON_HEADER = ("informal", "formal")

# --- HTML -------------------------------------------------------------------------------------

# Only entities closed by ";": html.unescape alone would also turn "&not" or "&reg" inside a
# pasted URL query into symbols.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_MAX_UNESCAPE_ROUNDS = 5  # the export escapes at most twice; the cap bounds "&amp;amp;amp;..."

# --- personal data ----------------------------------------------------------------------------

# The rules read a folded copy of the text (see `_matching_view`): ASCII digits, plain letters,
# "-" for every dash, no invisible characters. Spans found there are mapped back to the text.
_D = "[0-9]"  # not \d: the view has already turned every decimal digit into an ASCII one
_NO_DIGIT_AFTER = r"(?![0-9])"

# Plate region codes (A Banten, B Jakarta, ..., PA Papua); a fixed list keeps "RT 03 RW 05",
# "P2TL" or "SP2HP" from being read as plates.
_PLATE_REGIONS = frozenset(
    (
        *("A", "B", "D", "E", "F", "G", "H", "K", "L", "M", "N", "P", "R", "S", "T", "W", "Z"),
        *("AA", "AB", "AD", "AE", "AG", "BA", "BB", "BD", "BE", "BG", "BH", "BK", "BL", "BM"),
        *("BN", "BP", "DA", "DB", "DC", "DD", "DE", "DG", "DH", "DK", "DL", "DM", "DN", "DP"),
        *("DR", "DS", "DT", "DW", "EA", "EB", "ED", "KB", "KH", "KT", "KU", "PA", "PB", "PG"),
        *("PS", "PT", "PY", "CC", "CD", "RI"),
    )
)

_HARMLESS_PART = re.compile(
    rf"""
      (?:19|20){_D}{{2}}                                         # year
    | {_D}{{1,2}}[-./]{_D}{{1,2}}[-./](?:{_D}{{4}}|{_D}{{2}})     # date 12-05-2019
    | {_D}{{4}}[-./]{_D}{{1,2}}[-./]{_D}{{1,2}}                   # date 2019-05-12
    | {_D}{{1,3}}(?:\.{_D}{{3}})+                                # money 1.500.000
    | {_D}{{1,2}}[.:]{_D}{{2}}(?:-{_D}{{1,2}}[.:]{_D}{{2}})?       # time 08.00-16.00
    | {_D}{{1,2}}                                               # day, RT/RW
    """,
    re.VERBOSE,
)
_MONEY_PREFIX = re.compile(r"(?:rp|idr)\.?\s*$", re.IGNORECASE)
_MONEY_SUFFIX = re.compile(r" ?(?:,-|,00|rupiah\b|ribu\b|rb\b|juta\b|jt\b)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def _is_account_number(match: re.Match[str]) -> bool:
    """Reject digit runs that are really amounts, dates or years written side by side."""
    group = "v" if "v" in match.re.groupindex else 0
    start, end = match.span(group)
    if _MONEY_PREFIX.search(match.string[max(0, start - 5) : start]):
        return False
    if _MONEY_SUFFIX.match(match.string, end):
        return False
    parts = _WHITESPACE.split(match.group(group))
    if sum(len(part) <= 2 for part in parts) > 2:  # "08 12 34 56 78 90" is a number, not a date
        return True
    return not all(_HARMLESS_PART.fullmatch(part) for part in parts)


class _Rule(NamedTuple):
    kind: str
    pattern: re.Pattern[str]
    accept: Callable[[re.Match[str]], bool] | None = None
    # lowercase substrings of which the text must hold one for the rule to be worth running
    # (() = any); they are looked for in the lowercased view
    hints: tuple[str, ...] = ()
    # the fewest ASCII digits a match holds: text with fewer skips the rule
    min_digits: int = 0


def _rule(
    kind: str,
    pattern: str,
    accept: Callable[[re.Match[str]], bool] | None = None,
    hints: tuple[str, ...] = (),
    min_digits: int = 0,
) -> _Rule:
    return _Rule(kind, re.compile(pattern), accept, hints, min_digits)


def _is_plate_region(match: re.Match[str]) -> bool:
    return match.group("region") in _PLATE_REGIONS


# A digit not preceded by another digit. The check comes after the first character, not
# before it, so that re can skip straight to candidate characters.
_FIRST_DIGIT = r"[0-9](?<![0-9]{2})"
_NIK_GROUPS = ((4, 4, 4, 4), (6, 6, 4), (2, 4, 6, 4), (2, 2, 2, 6, 4))
# Between digit groups: one or two spaces, or one of "./-" with up to two spaces around it
# ("3273/0115", "3273  0115", "3273 / 0115"). The two branches start with different
# characters, so a separator matches in one way only.
_GAP = r"(?: {1,2}(?:[./-] {0,2})?|[./-] {0,2})"
# In phone numbers brackets separate too: "(0812) 3456", "+62 (812) 3456", "+62 (0)812".
_PHONE_GAP = r"(?: {1,2}(?:[./()-]{1,2} {0,2})?|[./()-]{1,2} {0,2})"
_AFTER_62 = rf"(?:{_PHONE_GAP}?0)?{_PHONE_GAP}?"  # "+62 812", "+62 0812", "+62 (0)812"
# E-mail written to dodge scrapers: "nama (at) gmail (dot) com", "nama[at]gmail[dot]com",
# "nama @ gmail.com", "nama at gmail dot com".
_BRACKETED = r" {0,2}[(\[{<] {0,2}(?i:%s) {0,2}[)\]}>] {0,2}"
_SPELLED = r" {1,2}(?i:%s) {1,2}"
_AT = rf"(?: {{0,2}}@ {{0,2}}|{_BRACKETED % 'at'}|{_SPELLED % 'at'})"
# one of these is in every "at" above (not " at" alone: "atau" and "atas" are everywhere)
_AT_HINTS = ("@", "(at", "[at", "{at", "<at", " at ", " at)", " at]", " at}", " at>")
_BRACKET_DOT = _BRACKETED % "dot|titik"
_DOT = rf"(?:\.|{_BRACKET_DOT}|{_SPELLED % 'dot'})"
# \w, not [A-Za-z0-9]: look-alike letters of other scripts ("gmаil" with a Cyrillic а) are
# still an address
_EMAIL_LOCAL = rf"(?<![\w.%+-])[\w.%+-]+(?:{_BRACKET_DOT}[\w%+-]+){{0,3}}"
# the last label starts with a letter, so "10 sak @ 50.000" stays a price
_EMAIL_DOMAIN = rf"[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[^\W\d_][\w-]*"


def _grouped_digits(first: int, *rest: int) -> str:
    """Digit groups of these sizes joined by separators ("3201 2345 6789 0001", "3201/2345/...")."""
    groups = "".join(f"{_GAP}{_D}{{{size}}}" for size in rest)
    return rf"{_FIRST_DIGIT}{_D}{{{first - 1}}}{groups}{_NO_DIGIT_AFTER}"


# Most specific first; each rule only sees text no earlier rule has claimed. Repetitions are
# bounded or separated by disjoint character classes, so no rule backtracks catastrophically.
# Rules whose matches hold ASCII digits say how many at least (`min_digits`): text with fewer
# skips them (a date or a house number does not need the NIK, phone or account rules).
_RULES: tuple[_Rule, ...] = (
    _rule(
        "url",
        r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]}]",
        hints=("://", "www."),
    ),
    _rule("email", _EMAIL_LOCAL + _AT + _EMAIL_DOMAIN, hints=_AT_HINTS),
    # NPWP 99.999.999.9-999.999, partly formatted, or plain 15 digits.
    _rule(
        "npwp",
        rf"{_FIRST_DIGIT}{_D}\.?{_D}{{3}}\.?{_D}{{3}}\.?{_D}[.-]?{_D}{{3}}\.?{_D}{{3}}"
        rf"{_NO_DIGIT_AFTER}",
        min_digits=15,
    ),
    # The 16-digit NPWP is the owner's NIK; only the word "NPWP" in front tells them apart.
    _rule(
        "npwp",
        rf"[Nn][Pp][Ww][Pp][^0-9\n]{{0,20}}?(?P<v>{_D}{{16}}){_NO_DIGIT_AFTER}",
        min_digits=16,
    ),
    # NIK and KK: 16 digits, plain or grouped 4-4-4-4, 6-6-4, 2-4-6-4, 2-2-2-6-4.
    _rule("nik", rf"{_FIRST_DIGIT}{_D}{{15}}{_NO_DIGIT_AFTER}", min_digits=16),
    *(_rule("nik", _grouped_digits(*sizes), min_digits=16) for sizes in _NIK_GROUPS),
    # Mobile: 08xx / +62 8xx / 62 8xx / +62 (0)8xx, 10-13 digits in the 08 form, separators
    # and brackets anywhere after the operator code; an opening bracket in front is part of
    # the number, and so is the closing one right after it ("(081234567890)"). Each branch
    # starts with a plain character, so that re can skip straight to candidate characters.
    _rule(
        "phone",
        rf"(?:\((?P<open>) ?(?:\+ ?62{_AFTER_62}|62{_AFTER_62}|0)|\+ ?62{_AFTER_62}"
        rf"|6(?<![0-9]6)2{_AFTER_62}|0(?<![0-9]0))"
        rf"8[1-9](?:{_PHONE_GAP}?{_D}){{7,10}}{_NO_DIGIT_AFTER}(?(open)\)?)",
        min_digits=10,
    ),
    # Landline: (021) 1234567, 0274-123456, 021/123 4567, +62 21 1234567 (5-8 digits after
    # the area code, the first three together), never inside a longer run of digit groups.
    _rule(
        "phone",
        rf"(?:\(0[1-9]{_D}{{1,2}}\) ?|0(?<![0-9]0)(?<![0-9][ ./-]0)[1-9]{_D}{{1,2}}(?: ?[/-] ?| )"
        rf"|\+62 ?\(?[1-9]{_D}{{1,2}}\)? ?){_D}{{3}}(?:[ -]?{_D}){{2,5}}(?![ .-]?[0-9])",
        min_digits=8,
    ),
    # BPJS Kesehatan / KIS card: 13 digits starting with 000.
    _rule("bpjs", rf"0(?<![0-9]0)00{_D}{{10}}{_NO_DIGIT_AFTER}", min_digits=13),
    # Plates, on the original case: "B 1234 XYZ", "AB 1 CD", "D1234ABC" (compact needs 3+ digits).
    _rule(
        "plate",
        r"(?P<region>[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]?)"
        rf"(?: [1-9]{_D}{{0,3}} | ?[1-9]{_D}{{2,3}} ?)[A-Z]{{1,3}}(?![A-Za-z0-9])",
        _is_plate_region,
        min_digits=1,
    ),
    # Anything else with 9+ digits: PLN customer ids, bank accounts, KPJ, registration numbers.
    _rule(
        "number",
        rf"{_FIRST_DIGIT}(?:[ .-]?{_D}){{8,}}{_NO_DIGIT_AFTER}",
        _is_account_number,
        min_digits=9,
    ),
    # Short bank accounts (5-8 digits) are told from other numbers by the word in front:
    # "rek BCA 1234567", "no. rek: 123-4567", "norek 12345678", "rekening a.n. Budi 765432".
    _rule(
        "number",
        r"(?i:\b(?:rek(?:ening)?|norek)\b)[^0-9\n]{0,30}?"
        rf"(?P<v>{_FIRST_DIGIT}(?:[ .-]?{_D}){{4,7}}){_NO_DIGIT_AFTER}",
        _is_account_number,
        hints=("rek",),
        min_digits=5,
    ),
)

_SPAN_CACHE_SIZE = 1024  # a full batch (1,000 complaints) stays cached through one request
_SPAN_CACHE_MIN_CHARS = 40
# the rules worth running on text holding n ASCII digits, in order (n capped at the last index)
_RULES_BY_DIGITS = tuple(
    tuple(rule for rule in _RULES if rule.min_digits <= n)
    for n in range(max(rule.min_digits for rule in _RULES) + 1)
)
_CLAIMED = "\x00"  # stands in for claimed text: not a digit, letter or separator
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# invisible: format characters (zero-width space and joiners, soft hyphen, direction marks)
# and combining marks (variation selectors, the keycap of "0️⃣")
_INVISIBLE_CATEGORIES = frozenset(("Cf", "Mn", "Me"))

# --- normalization ----------------------------------------------------------------------------

_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_ANY_TRIPLE = re.compile(r"(.)\1\1", re.DOTALL)
# Words glued by "/" are abbreviations of their own ("s/d" = sampai dengan, "d/a"): leave them.
_TOKEN = re.compile(r"(?<![\w/])\w+(?![\w/])")
# the same tokens, kept by re.split at the odd positions of its result
_TOKEN_SPLIT = re.compile(f"({_TOKEN.pattern})")
# Words whose triple letters are real: roman numerals ("golongan IIIa", "D III"), www, PPPK.
# Only runs of exactly three can belong to one, and such words are at most _KEEP_MAX long.
_KEEP_REPEATS = re.compile(r"d?x{0,3}(?:ix|iv|v?i{0,3})[a-e]?|www|pppk", re.IGNORECASE)
_KEEP_LETTERS = "ixwpIXWP"
_KEEP_MAX = 10
_LEXICON_KEY = re.compile(r"[^\W_]+")


def _require_str(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"expected complaint text as str, got {type(text).__name__}")
    return text


def as_texts(X: Iterable[str]) -> list[str]:
    """Validate a 1-D collection of complaint texts (a single string is refused)."""
    if isinstance(X, str):
        raise TypeError("expected a list of complaint texts, got a single string")
    texts = list(X)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"complaint {i} is {type(text).__name__}, expected str")
    return texts


def clean_html(text: str) -> str:
    """Unescape HTML entities (repeatedly, for double-escaped exports) and turn tags into spaces."""
    text = _require_str(text)
    for _ in range(_MAX_UNESCAPE_ROUNDS):
        unescaped = _ENTITY.sub(lambda m: html.unescape(m.group()), text)
        if unescaped == text:
            break
        text = unescaped
    return _TAG.sub(" ", text)


def find_personal_data(text: str) -> list[tuple[str, int, int]]:
    """Spans (kind, start, end) of personal data in `text`, sorted and non-overlapping.

    Rules run from most to least specific (URL, e-mail, NPWP, NIK, phone, BPJS, plate, other
    long numbers, short bank accounts); text claimed by one rule is hidden from the later
    ones. They read the text folded (`_matching_view`: full-width and styled characters as
    plain ones, no zero-width characters); the spans are positions in `text` itself.
    """
    text = _require_str(text)
    return list(_scan_cached(text) if len(text) >= _SPAN_CACHE_MIN_CHARS else _scan(text))


def _scan(text: str) -> tuple[tuple[str, int, int], ...]:
    view, origin = _matching_view(text)
    spans: list[tuple[str, int, int]] = []
    work, lowered = view, view.lower()
    # only the rules that the text's count of ASCII digits allows (none for most words)
    digits = sum(map(view.count, "0123456789"))
    rules = _RULES_BY_DIGITS[min(digits, len(_RULES_BY_DIGITS) - 1)]
    for kind, pattern, accept, hints, *_ in rules:
        if hints and not any(hint in lowered for hint in hints):
            continue
        found = []
        for match in pattern.finditer(work):
            if accept is not None and not accept(match):
                continue
            group = "v" if "v" in pattern.groupindex else 0
            found.append((kind, match.start(group), match.end(group)))
        if found:
            spans.extend(found)
            work = _claim(work, found)
    if origin is not None:
        # A span ends after the character its last folded character came from, and after the
        # invisible ones that follow it (the keycap of "0️⃣" belongs to the digit).
        origin.append(len(text))
        spans = [
            (kind, origin[start], max(origin[end - 1] + 1, origin[end]))
            for kind, start, end in spans
        ]
    return tuple(sorted(spans, key=lambda span: span[1]))


def _matching_view(text: str) -> tuple[str, list[int] | None]:
    """`text` as the rules read it, and for each of its characters the index in `text` of the
    character it comes from (None when that is its own index).

    Each non-ASCII character is folded alone: invisible ones are dropped, dashes become "-",
    decimal digits of any script become ASCII digits, and everything else is NFKC ("０８１２",
    "𝐠𝐦𝐚𝐢𝐥", "＠" and the no-break space become "0812", "gmail", "@" and " ").
    """
    if text.isascii():
        return text, None
    pieces: list[str] = []
    origin: list[int] = []
    same_length = True
    last = 0
    for match in _NON_ASCII.finditer(text):
        pieces.append(text[last : match.start()])
        origin.extend(range(last, match.start()))
        for index, char in enumerate(match.group(), match.start()):
            folded = _fold(char)
            pieces.append(folded)
            origin.extend([index] * len(folded))
            same_length = same_length and len(folded) == 1
        last = match.end()
    pieces.append(text[last:])
    origin.extend(range(last, len(text)))
    return "".join(pieces), None if same_length else origin


@functools.lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    category = unicodedata.category(char)
    if category in _INVISIBLE_CATEGORIES:
        return ""
    if category == "Pd":
        return "-"
    if category == "Nd":
        return str(unicodedata.decimal(char))
    return unicodedata.normalize("NFKC", char)


# One prediction scans the same complaint up to three times (normalizing, explaining, storing
# it masked), so the latest answers are kept, in memory only. Short strings (single words,
# while explaining) are cheap to scan and would only push complaints out.
_scan_cached = functools.lru_cache(maxsize=_SPAN_CACHE_SIZE)(_scan)


def _claim(text: str, spans: list[tuple[str, int, int]]) -> str:
    pieces, last = [], 0
    for _, start, end in spans:
        pieces += [text[last:start], _CLAIMED * (end - start)]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def mask_personal_data(text: str) -> str:
    """Replace personal data with MASK_TOKENS placeholders, keeping all other text as it is.

    Use it on anything stored or displayed: logs, feedback, explanations, similar complaints.
    """
    spans = find_personal_data(text)
    if not spans:
        return text
    pieces, last = [], 0
    for kind, start, end in spans:
        pieces += [text[last:start], MASK_TOKENS[kind]]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def load_lexicon(path: str | Path | None = None) -> dict[str, str]:
    """Read an ``informal<TAB>formal`` TSV (header line, ``#`` comments, blank lines allowed).

    Malformed lines raise ValueError naming the file and line, so an edit to the lexicon fails
    loudly at training time instead of silently changing what the router sees.
    """
    path = Path(path) if path is not None else DEFAULT_LEXICON_PATH
    lexicon: dict[str, str] = {}
    first_line: dict[str, int] = {}
    header_seen = False
    with path.open(encoding="utf-8-sig") as handle:
        for lineno, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = [field.strip() for field in line.split("\t")]
            where = f"{path}:{lineno}"
            if not header_seen:
                if tuple(fields) != _LEXICON_HEADER:
                    raise ValueError(f"{where}: expected header 'informal<TAB>formal'")
                header_seen = True
                continue
            if len(fields) != 2:
                raise ValueError(
                    f"{where}: expected 2 tab-separated columns (informal, formal), "
                    f"got {len(fields)}"
                )
            informal, formal = fields
            if not _LEXICON_KEY.fullmatch(informal):
                raise ValueError(f"{where}: informal form {informal!r} must be one word")
            if not formal:
                raise ValueError(f"{where}: formal form for {informal!r} is empty")
            if informal != informal.lower() or formal != formal.lower():
                raise ValueError(f"{where}: entries must be lowercase")
            if informal in lexicon:
                raise ValueError(
                    f"{where}: {informal!r} already defined on line {first_line[informal]}"
                )
            lexicon[informal] = formal
            first_line[informal] = lineno
    if not header_seen:
        raise ValueError(f"{path}: empty lexicon, expected header 'informal<TAB>formal'")
    return lexicon


def load_stopwords(path: str | Path | None = None) -> frozenset[str]:
    """Read a stop list: one lowercase word per line, ``#`` comments and blank lines allowed.

    Malformed lines raise ValueError naming the file and line (the lexicon's rules).
    """
    path = Path(path) if path is not None else DEFAULT_STOPWORDS_PATH
    words: set[str] = set()
    with path.open(encoding="utf-8-sig") as handle:
        for lineno, raw in enumerate(handle, start=1):
            word = raw.split("#", 1)[0].strip()
            if not word:
                continue
            if not _LEXICON_KEY.fullmatch(word):
                raise ValueError(f"{path}:{lineno}: stop word {word!r} must be one word")
            if word != word.lower():
                raise ValueError(f"{path}:{lineno}: stop word {word!r} must be lowercase")
            words.add(word)
    return frozenset(words)


def _collapse_repeats(text: str) -> str:
    if _ANY_TRIPLE.search(text) is None:  # no run of 3 of any character: nothing to do, fast
        return text
    return _REPEATS.sub(_collapse_run, text)


def _collapse_run(match: re.Match[str]) -> str:
    if match.end() - match.start() == 3 and match.group(1) in _KEEP_LETTERS:
        # Look at the word around the run, but never further than a kept word can reach, so
        # a megabyte-long "word" costs no more than a short one.
        text, start, end = match.string, match.start(), match.end()
        while start > 0 and end - start <= _KEEP_MAX and text[start - 1].isalpha():
            start -= 1
        while end < len(text) and end - start <= _KEEP_MAX and text[end].isalpha():
            end += 1
        if end - start <= _KEEP_MAX and _KEEP_REPEATS.fullmatch(text, start, end):
            return match.group()
    return match.group(1)


def _expand_lexicon(text: str, lexicon: dict[str, str]) -> str:
    if not lexicon:
        return text
    # _TOKEN.sub with a lookup per match, without a Python call per token
    parts = _TOKEN_SPLIT.split(text)
    tokens = parts[1::2]
    parts[1::2] = map(lexicon.get, tokens, tokens)
    return "".join(parts)


class TextNormalizer(TransformerMixin, BaseEstimator):
    """Turn raw complaint texts into normalized, masked texts for the feature extractors.

    Each step can be switched off so its effect can be measured. ``fit`` copies the lexicon
    into ``lexicon_``: a pickled model keeps the spellings it was trained with even if
    ``data/lexicon_id.tsv`` is edited later.

    Args:
        html: unescape entities and drop tags.
        lowercase: lowercase after masking (so placeholders become e.g. "[nik]").
        collapse_repeats: shorten runs of 3+ identical letters to one ("trsss" -> "trs").
        mask: replace personal data with MASK_TOKENS placeholders.
        lexicon: expand informal spellings ("yg" -> "yang").
        lexicon_path: TSV to read; None means DEFAULT_LEXICON_PATH.
    """

    def __init__(
        self,
        html: bool = True,
        lowercase: bool = True,
        collapse_repeats: bool = True,
        mask: bool = True,
        lexicon: bool = True,
        lexicon_path: str | None = None,
    ) -> None:
        self.html = html
        self.lowercase = lowercase
        self.collapse_repeats = collapse_repeats
        self.mask = mask
        self.lexicon = lexicon
        self.lexicon_path = lexicon_path

    def fit(self, X: Iterable[str], y: object = None) -> TextNormalizer:
        """Load the lexicon (texts are not looked at: normalization learns nothing from them)."""
        self.lexicon_ = load_lexicon(self.lexicon_path) if self.lexicon else {}
        return self

    def transform(self, X: Iterable[str]) -> list[str]:
        """Normalize each text; non-str items (None, NaN) raise TypeError."""
        self._check_fitted()
        out = []
        for i, text in enumerate(X):
            if not isinstance(text, str):
                raise TypeError(
                    f"TextNormalizer expects str texts, item {i} is {type(text).__name__}"
                )
            out.append(self._normalize(text))
        return out

    def _check_fitted(self) -> None:
        # check_is_fitted inspects the whole object; this runs once per word
        if not hasattr(self, "lexicon_"):
            check_is_fitted(self, "lexicon_")

    def normalize(self, text: str) -> str:
        """Normalize one text: html -> mask -> lowercase -> repeats -> lexicon -> whitespace."""
        self._check_fitted()
        return self._normalize(_require_str(text))

    def _normalize(self, text: str) -> str:
        if self.html:
            text = clean_html(text)
        if self.mask:
            text = mask_personal_data(text)
        if self.lowercase:
            text = text.lower()
        if self.collapse_repeats:
            text = _collapse_repeats(text)
        if self.lexicon:
            text = _expand_lexicon(text, self.lexicon_)
        return " ".join(text.split())


# --- near duplicates --------------------------------------------------------------------------

# Placeholders of masked numbers: whether a number is masked depends on its length and format
# (a 12-digit customer id is "[nomor]", an 8-digit one stays digits), so both count as digits.
_NUMBER_PLACEHOLDERS = re.compile(
    "|".join(
        re.escape(MASK_TOKENS[kind].lower())
        for kind in ("phone", "nik", "bpjs", "npwp", "plate", "number")
    )
)
_LETTER_RUN = re.compile(r"[^\W\d_]+")


def near_duplicate_groups(texts: Iterable[str]) -> np.ndarray:
    """Group id of each complaint: complaints identical but for their numbers share one.

    The rule: normalize with the default TextNormalizer (HTML, personal data masked,
    lowercase, repeats collapsed, lexicon), drop the placeholders of masked numbers
    ([nik], [telepon], [bpjs], [npwp], [nopol], [nomor]) and keep only the runs of letters:
    two complaints are in one group when those runs are the same, in the same order. Digits,
    punctuation and spacing do not count, so a campaign template sent with different customer
    numbers, amounts or dates is one group; [url] and [email] count as the words "url" and
    "email". Ids are 0, 1, 2, … in order of each group's first complaint.

    Deduplication keeps such complaints apart (they are distinct complaints); splits keep
    each group on one side, so no fold is scored on a near-copy of what it trained on.
    """
    normalizer = TextNormalizer().fit([])
    ids: dict[str, int] = {}
    keys = (
        " ".join(_LETTER_RUN.findall(_NUMBER_PLACEHOLDERS.sub(" ", text)))
        for text in normalizer.transform(as_texts(texts))
    )
    return np.fromiter((ids.setdefault(key, len(ids)) for key in keys), dtype=np.int64)
