"""DDL and documentation generated from the table models (:mod:`paysim.store.models`).

``create_table`` and ``add_columns`` write the statements of one schema version: a table that
appears in version N is created with the columns it had in N; columns added later are added by
their own version's ``ALTER TABLE ... ADD COLUMN IF NOT EXISTS``. Every statement is idempotent,
so a migration interrupted half-way can simply run again.

``markdown`` renders the table layouts for ``docs/store.md`` (a test keeps the two in step).
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Union, get_args, get_origin

from pydantic.fields import FieldInfo

from paysim.store.models import Sql, Table

_BASE_TYPES: dict[type, str] = {
    bool: "BOOLEAN",
    int: "BIGINT",
    float: "DOUBLE",
    str: "VARCHAR",
    bytes: "BLOB",
    datetime: "TIMESTAMP",
}


@dataclass(frozen=True)
class Column:
    """One column of a table model."""

    name: str
    sql_type: str
    nullable: bool
    since: int
    description: str
    default: object

    def definition(self) -> str:
        return f"{self.name} {self.sql_type}" + ("" if self.nullable else " NOT NULL")


def _sql_type(annotation: object, metadata: list[object]) -> tuple[str, bool]:
    """The SQL type of an annotation and whether it admits ``None``."""
    nullable = False
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(get_args(annotation))
        if len(args) != 1:
            raise TypeError(f"unsupported column type {annotation!r}")
        annotation = args[0]
    marks = list(metadata)
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        annotation = base
        marks.extend(extra)
    for mark in marks:
        if isinstance(mark, Sql):
            return mark.type, nullable
    if isinstance(annotation, type) and annotation in _BASE_TYPES:
        return _BASE_TYPES[annotation], nullable
    raise TypeError(f"no SQL type for {annotation!r}")


def _since(info: FieldInfo) -> int:
    extra = info.json_schema_extra
    value = extra.get("since", 1) if isinstance(extra, dict) else 1
    assert isinstance(value, int)
    return value


def columns(model: type[Table]) -> list[Column]:
    """The columns of a table, in order."""
    out = []
    for name, info in model.model_fields.items():
        sql_type, nullable = _sql_type(info.annotation, list(info.metadata))
        out.append(
            Column(
                name=name,
                sql_type=sql_type,
                nullable=nullable,
                since=max(_since(info), model.since),
                description=info.description or "",
                default=None if info.is_required() else info.default,
            )
        )
    return out


def column_names(model: type[Table], version: int | None = None) -> list[str]:
    return [c.name for c in columns(model) if version is None or c.since <= version]


def create_table(model: type[Table], version: int) -> str:
    """``CREATE TABLE IF NOT EXISTS`` with the columns the table had in ``version``."""
    parts = [c.definition() for c in columns(model) if c.since <= version]
    if model.key and model.primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(model.key)})")
    body = ",\n  ".join(parts)
    return f"CREATE TABLE IF NOT EXISTS {model.table} (\n  {body}\n)"


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def is_view(model: type[Table], version: int) -> bool:
    """Whether ``model`` is a view (made by a migration's own SQL) in schema ``version``."""
    return model.view_since is not None and version >= model.view_since


def add_columns(model: type[Table], version: int) -> list[str]:
    """``ALTER TABLE ... ADD COLUMN IF NOT EXISTS`` for the columns new in ``version`` (none for
    a view: its migration defines its columns)."""
    if is_view(model, version):
        return []
    out = []
    for c in columns(model):
        if c.since != version or model.since == version:
            continue
        if not c.nullable and c.default is None:
            raise TypeError(
                f"{model.table}.{c.name}: a column added to an existing table must be nullable "
                "or have a default"
            )
        default = "" if c.default is None else f" DEFAULT {_literal(c.default)}"
        out.append(
            f"ALTER TABLE {model.table} ADD COLUMN IF NOT EXISTS {c.name} {c.sql_type}{default}"
        )
    return out


def schema_statements(tables: tuple[type[Table], ...], version: int) -> list[str]:
    """The generated DDL of schema ``version``: new tables, then new columns."""
    out = [
        create_table(t, version) for t in tables if t.since == version and not is_view(t, version)
    ]
    for t in tables:
        out.extend(add_columns(t, version))
    return out


def markdown(tables: tuple[type[Table], ...]) -> str:
    """The table layouts as Markdown: per table its purpose, key and columns."""
    lines: list[str] = []
    for model in tables:
        kind = " (view)" if model.view_since is not None else ""
        lines.append(f"### `{model.table}`{kind}")
        lines.append("")
        lines.append(model.doc)
        if model.key:
            lines.append(f"Key: `({', '.join(model.key)})`.")
        lines.append("")
        lines.append("| column | type | since | meaning |")
        lines.append("|---|---|---|---|")
        for c in columns(model):
            kind = c.sql_type + ("" if c.nullable else " NOT NULL")
            lines.append(f"| `{c.name}` | {kind} | {c.since} | {c.description} |")
        lines.append("")
    return "\n".join(lines)
