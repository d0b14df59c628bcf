"""Reading scenario YAML: YAML 1.2 core values, and every bound and refusal with its line.

Every test runs with libyaml's parser and with PyYAML's pure-Python one (the fallback when
libyaml is missing): both must give the same values and the same errors.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from paysim.config import yaml12
from paysim.config.yaml12 import (
    MAX_DEPTH,
    MAX_VALUES,
    TextError,
    line_of,
    parse_yaml,
    pure_python_parser,
)
from paysim.config.yaml_schema import resolve_plain, yaml11_hint


@pytest.fixture(params=["libyaml", "pure"], autouse=True)
def parser(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "libyaml":
        if not yaml12.HAVE_LIBYAML:
            pytest.fail("PyYAML was built without libyaml; the pinned wheel has it")
        yield request.param
        return
    with pure_python_parser():
        yield request.param


def refused(text: str) -> TextError:
    with pytest.raises(TextError) as caught:
        parse_yaml(text)
    return caught.value


# ---------------------------------------------------------------------------------------------
# YAML 1.2 core schema
# ---------------------------------------------------------------------------------------------
PLAIN = [
    # (as written, value) — YAML 1.1 would have read the first six differently
    ("0100000", 100000),  # 1.1: octal 32768
    ("1:30:00", "1:30:00"),  # 1.1: base 60, 5400
    ("yes", "yes"),  # 1.1: true
    ("No", "No"),  # 1.1: false
    ("0b101", "0b101"),  # 1.1: 5
    ("2024-01-31", "2024-01-31"),  # 1.1: a date
    ("on", "on"),
    ("y", "y"),
    ("true", True),
    ("False", False),
    ("TRUE", True),
    ("~", None),
    ("null", None),
    ("", None),
    ("0o17", 15),
    ("0x1F", 31),
    ("+12", 12),
    ("-0", 0),
    ("-7", -7),
    ("1_000_000", 1_000_000),  # digit separators: the one extension, same number everywhere
    ("0_100", "0_100"),  # but not after a leading zero (1.1 octal)
    ("1e3", 1000.0),
    ("1E-4", 0.0001),
    ("1.", 1.0),
    (".5", 0.5),
    ("-2.5e+2", -250.0),
    (".inf", math.inf),
    ("-.Inf", -math.inf),
    ("1.2.3", "1.2.3"),
    ("BANK_A", "BANK_A"),
    ("12abc", "12abc"),
]


@pytest.mark.parametrize(("text", "value"), PLAIN, ids=[p[0] or "empty" for p in PLAIN])
def test_plain_scalars_follow_the_core_schema(text: str, value: object) -> None:
    got = parse_yaml(f"k: {text}\n").data
    assert got == {"k": value}
    assert isinstance(got, dict) and type(got["k"]) is type(value)


def test_nan_and_quoted_and_tagged_scalars() -> None:
    data = parse_yaml(
        "a: .nan\nb: '0100'\nc: \"yes\"\nd: !!str 12\ne: !!float 1\nf: !!int 0x10\n"
        "g: ! 12\nh: !!null ~\ni: !!bool true\n"
    ).data
    assert isinstance(data, dict) and math.isnan(data.pop("a"))
    assert data == {
        "b": "0100",
        "c": "yes",
        "d": "12",
        "e": 1.0,
        "f": 16,
        "g": "12",
        "h": None,
        "i": True,
    }


@given(st.integers(-(10**30), 10**30))
def test_every_integer_reads_as_itself(value: int) -> None:
    assert resolve_plain(str(value)) == value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_reads_as_itself(value: float) -> None:
    got = resolve_plain(repr(value))
    assert got == value and type(got) is float


# Text YAML can carry unescaped: JSON escapes C0 controls itself; DEL, C1 controls, surrogates,
# non-characters and the BOM are not printable in YAML, and NEL/LS/PS are line breaks in it.
_NOT_YAML_TEXT = "\x7f" + "".join(map(chr, range(0x80, 0xA0))) + "\ufeff\ufffe\uffff\u2028\u2029"
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters=_NOT_YAML_TEXT),
    max_size=12,
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(JSON)
def test_json_documents_read_as_json(value: object) -> None:
    # JSON is YAML 1.2: a value written as JSON reads back equal, by either parser. (YAML's
    # `\u` escapes take no surrogate pairs, so text beyond the BMP is written as is.)
    assert parse_yaml(json.dumps(value, ensure_ascii=False)).data == value


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("1:30:00", "base-60 number 5400"),
        ("-1:00", "base-60 number -60"),
        ("yes", "write true"),
        ("OFF", "write false"),
        ("0b101", "binary number 5; write 5"),
        ("1_000.5", "write the number without `_` (`1000.5`)"),
        ("plain words", None),
    ],
)
def test_yaml11_hints_say_what_changed(text: str, hint: str | None) -> None:
    got = yaml11_hint(text)
    assert (got is None) if hint is None else (got is not None and hint in got)


def test_a_leading_zero_is_decimal_with_a_note() -> None:
    parsed = parse_yaml("simulation:\n  opening_balance: 0100000\n  tick: 060\n  ok: 0\n")
    assert parsed.data == {"simulation": {"opening_balance": 100000, "tick": 60, "ok": 0}}
    (l1, c1, n1), (l2, c2, n2) = parsed.notes
    assert (l1, c1, l2, c2) == (2, 20, 3, 9)
    assert "decimal 100000" in n1 and "octal number 32768" in n1
    assert "decimal 60" in n2 and "octal number 48" in n2


# ---------------------------------------------------------------------------------------------
# Refusals, each with its line and column
# ---------------------------------------------------------------------------------------------
def test_duplicate_keys_name_both_lines() -> None:
    e = refused("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n")
    assert "duplicate key `c` (first at line 3)" in e.message
    assert (e.line, e.column, e.loc) == (5, 3, ("b", "c"))
    # Equal after resolution: `"a"` and `a`, `1` and `0x1`.
    assert "duplicate key `a`" in refused('a: 1\n"a": 2\n').message
    assert "duplicate key `1`" in refused("{1: a, 0x1: b}").message


def test_billion_laughs_fails_at_the_alias_that_passes_the_bound() -> None:
    levels = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        name = chr(ord("a") + i)
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    e = refused("\n".join(levels) + "\n")
    assert f"more than {MAX_VALUES:,} values once its aliases are expanded" in e.message
    # 10^k values at level k: the bound (5·10^5) is passed inside level f (10^6).
    assert e.line == 6 and e.loc is not None and e.loc[0] == "f"


def test_merge_keys_merge_as_in_yaml_1_1() -> None:
    text = (
        "a: &a {x: 1, y: 1}\n"
        "b: &b {x: 2, z: 2}\n"
        "c:\n  w: 0\n  <<: [*a, *b]\n  y: 3\n"  # written keys win; earlier sources first
    )
    data = parse_yaml(text).data
    assert isinstance(data, dict) and data["c"] == {"w": 0, "y": 3, "x": 1, "z": 2}
    e = refused("a: &a {x: 1}\nc: {x: 2, <<: *a, x: 3}\n")
    assert "duplicate key `x` (first at line 2)" in e.message


def test_every_scenario_of_the_repository_reads_as_yaml_1_1_read_it() -> None:
    # No example changes meaning with the switch to YAML 1.2 (merge keys included).
    class Old(yaml.SafeLoader):
        """The loader before: PyYAML 1.1 plus exponent floats without a dot."""

    Old.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$"),
        list("-+0123456789."),
    )
    root = Path(__file__).resolve().parent.parent
    files = [
        *(root / "scenarios").glob("*.yaml"),
        *(root / "tests/fixtures/scenarios/valid").glob("*.yaml"),
    ]
    assert len(files) >= 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert parse_yaml(text).data == yaml.load(text, Loader=Old), path.name


def test_aliases_within_the_bound_share_their_value() -> None:
    data = parse_yaml("w: &w {A: 1, B: 2}\nx: *w\ny: [*w, *w]\n").data
    assert isinstance(data, dict)
    assert data["x"] == {"A": 1, "B": 2} and data["y"] == [data["w"], data["w"]]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a: &a [1, *a]\n", "recursive alias", 1),
        ("a: &a {b: *a}\n", "recursive alias", 1),
        ("a: *nope\n", "refers to no anchor `&nope`", 1),
        ("base: &b {x: 1}\nother:\n  <<: 5\n", "merge key `<<` takes a mapping", 3),
        ("b: &b {x: 1}\no: {<<: *b, <<: *b}\n", "second merge key", 2),
        ("a: 1\n---\nb: 2\n", "second document", 2),
        ("%YAML 1.1\n---\na: 1\n", "declares `%YAML 1.1`", 1),
        ("a: !!python/object:os.system x\n", "unsupported tag", 1),
        ("a: !custom {b: 1}\n", "unsupported tag `!custom`", 1),
        ("a: !!int twelve\n", "not a valid !!int", 1),
        ("? [a, b]\n: 1\n", "used as a key", 1),
        ("a: " + "9" * 5000 + "\n", "integer of 5000 digits", 1),
        ("a:\n\tb: 1\n", "tab", 2),
        ("a: [1, 2\n", "malformed YAML at line", 2),
    ],
)
def test_refusals_are_located(text: str, message: str, line: int) -> None:
    e = refused(text)
    assert message in e.message, e.message
    assert e.line == line, e.message
    assert f"line {line}" in e.message


def test_nesting_is_bounded_in_block_and_flow_style_and_through_aliases() -> None:
    ok = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert parse_yaml(ok).data is not None
    deep_flow = "a: " + "[" * 100_000 + "]" * 100_000 + "\n"
    e = refused(deep_flow)
    assert f"nests deeper than {MAX_DEPTH} levels" in e.message and e.line == 1
    block = "".join(" " * i + "k:\n" for i in range(MAX_DEPTH + 5))
    e = refused(block)
    assert f"nests deeper than {MAX_DEPTH} levels" in e.message and e.line == MAX_DEPTH + 1
    half = MAX_DEPTH // 2 + 1
    via_alias = "a: &a " + "[" * half + "]" * half + "\nb: " + "[" * half + "*a" + "]" * half
    e = refused(via_alias + "\n")
    assert "the alias `*a` makes the document nest deeper" in e.message and e.line == 2


def test_many_plain_values_are_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MAX_VALUES == 500_000
    monkeypatch.setattr(yaml12, "MAX_VALUES", 1_000)  # same check, a smaller document
    assert parse_yaml("[" + ", ".join(["0"] * 999) + "]").data == [0] * 999
    e = refused("[" + ", ".join(["0"] * 1_000) + "]")
    assert "holds more than 1,000 values" in e.message and e.loc == (999,)


def test_line_of_finds_values_keys_items_and_nearest_ancestors() -> None:
    text = "sim:\n  tpd: 10\nagents:\n  - id: A\n    bal: 1\n  - {id: B, bal: 2}\n"
    assert line_of(text, ("sim", "tpd")) == (2, 3)
    assert line_of(text, ("agents", 0)) == (4, 5)
    assert line_of(text, ("agents", 1, "bal")) == (6, 13)
    assert line_of(text, ("agents", 1, "missing", 3)) == (6, 5)
    assert line_of(text, ("nowhere",)) == (1, 1)
    full = parse_yaml(text, want_lines=True).lines
    assert full[("agents", 0, "bal")] == (5, 5)
