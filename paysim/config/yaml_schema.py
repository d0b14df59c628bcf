"""The YAML 1.2 core schema for scenario scalars, and what YAML 1.1 made of the same words.

:func:`resolve_plain` gives an untagged plain scalar its value by the YAML 1.2 core schema
(https://yaml.org/spec/1.2.2/#1032-tag-resolution); :func:`resolve_tagged` reads the core
tags. :func:`yaml11_hint` explains, for an error message, what a YAML 1.1 reader (PyYAML,
SimCash) made of a word that YAML 1.2 leaves as text, and :func:`leading_zero_note` the one
case where both read a number but not the same one.
"""

from __future__ import annotations

import re

WORDS: dict[str, object] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
}
NUMBERISH = frozenset("0123456789+-.")
_NUMBER = re.compile(
    r"""(?P<dec>[-+]?[0-9]+)
    |(?P<float>[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)
    |(?P<oct>0o[0-7]+)
    |(?P<hex>0x[0-9a-fA-F]+)
    |(?P<sep>[-+]?[1-9][0-9]{0,20}(?:_[0-9]{1,20}){1,20})
    |(?P<inf>[-+]?\.(?:inf|Inf|INF))
    |(?P<nan>\.(?:nan|NaN|NAN))""",
    re.VERBOSE,
)
# Digit separators (`sep`, as in Python and YAML 1.1: `1_000_000`) are not in the 1.2 core
# schema, which reads them as text; no reader makes another number of them, so they stay
# integers. Python refuses int() beyond 4,300 digits with a raw message; i64 needs 20.
_MAX_INT_CHARS = 400
LEADING_ZERO = re.compile(r"[-+]?0[0-9]+")


def resolve_plain(text: str) -> object:
    """The value of an untagged plain scalar under the YAML 1.2 core schema.

    ``null``/``~``/empty → ``None``; ``true``/``false`` (three spellings each) → bool; decimal,
    ``0o`` octal and ``0x`` hex integers → int (``0100`` is the decimal 100); decimal and
    exponent floats, ``.inf`` and ``.nan`` → float; anything else — ``yes``, ``on``,
    ``1:30:00``, ``0b101``, dates — is the string as written. One extension: an integer with
    digit separators (``1_000_000``, no leading zero) is that integer, as in Python and YAML 1.1.
    Raises ``ValueError`` for an integer of absurd length.
    """
    if not text or text[0] not in NUMBERISH:
        return WORDS.get(text, text)
    match = _NUMBER.fullmatch(text)
    if match is None:
        return text
    kind = match.lastgroup
    if kind == "float":
        return float(text)
    if kind in ("dec", "oct", "hex", "sep"):
        if len(text) > _MAX_INT_CHARS:
            raise ValueError(
                f"found an integer of {len(text)} digits, far beyond any value a scenario allows"
            )
        if kind == "dec":
            return int(text, 10)
        if kind == "sep":
            return int(text.replace("_", ""), 10)
        return int(text[2:], 8 if kind == "oct" else 16)
    if kind == "inf":
        return float("-inf") if text[0] == "-" else float("inf")
    return float("nan")


def resolve_tagged(tag: str, text: str) -> object:
    """A scalar with an explicit core tag (``!!str 0100``, ``!!float 1``)."""
    short = tag.removeprefix("tag:yaml.org,2002:")
    if short == "str":
        return text
    value = resolve_plain(text)
    if short == "null" and value is None:
        return None
    if short == "bool" and isinstance(value, bool):
        return value
    if short == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if short == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if short in ("null", "bool", "int", "float"):
        raise ValueError(f"`{text}` is not a valid !!{short}")
    raise ValueError(
        f"unsupported tag `{tag}`: scenario files use plain YAML values; of the tags only "
        "!!str, !!int, !!float, !!bool, !!null, !!map and !!seq are read"
    )


def leading_zero_note(text: str, value: int) -> str:
    digits = text.lstrip("+-")
    if all(c in "01234567" for c in digits):
        octal = int(digits, 8) * (-1 if text.startswith("-") else 1)
        old = f"the octal number {octal}"
    else:
        old = "text"
    return (
        f"`{text}` has a leading zero: paysim reads it as the decimal {value} (YAML 1.2), "
        f"YAML 1.1 readers such as PyYAML as {old}; write `{value}` to make it unambiguous"
    )


# ---------------------------------------------------------------------------------------------
# What YAML 1.1 made of a word that YAML 1.2 leaves as text (for error hints)
# ---------------------------------------------------------------------------------------------
_BOOL11 = {
    **dict.fromkeys(("yes", "Yes", "YES", "on", "On", "ON", "y", "Y"), "true"),
    **dict.fromkeys(("no", "No", "NO", "off", "Off", "OFF", "n", "N"), "false"),
}
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_BINARY = re.compile(r"[-+]?0b[01_]+")
_UNDERSCORED = re.compile(r"[-+]?(?:0x[0-9a-fA-F_]+|0o?[0-7_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)")


def yaml11_hint(text: str) -> str | None:
    """Why a word is text here although YAML 1.1 readers took it for a value, with the fix."""
    if text in _BOOL11:
        return (
            f"`{text}` is a word in YAML 1.2, which paysim reads; YAML 1.1 took it for a "
            f"boolean: write {_BOOL11[text]}"
        )
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if _SEXAGESIMAL.fullmatch(text):
        head, _, frac = digits.partition(".")
        total = 0
        for part in head.replace("_", "").split(":"):
            total = total * 60 + int(part)
        number = f"{sign * total}" + (f".{frac.replace('_', '')}" if frac else "")
        return (
            f"YAML 1.1 read `{text}` as the base-60 number {number}; in YAML 1.2, which "
            f"paysim reads, it is text: write {number}"
        )
    if _BINARY.fullmatch(text):
        value = sign * int(digits[2:].replace("_", "") or "0", 2)
        return f"YAML 1.1 read `{text}` as the binary number {value}; write {value}"
    if "_" in text and _UNDERSCORED.fullmatch(text):
        return f"write the number without `_` (`{text.replace('_', '')}`)"
    return None
