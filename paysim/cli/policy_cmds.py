"""``paysim validate-policy`` and ``paysim policy-schema``: thin shells over the engine's
policy validator and registry (INTERFACES.md §1, POLICY_DSL.md §8.3 and §12).

``validate-policy`` reads files through :mod:`paysim.policy.loader`, the reader every run uses,
so a file it calls valid is one a run accepts, and the reverse."""

import json
import traceback
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from paysim.cli.errors import DebugOption, debug_requested
from paysim.exceptions import PaysimError

if TYPE_CHECKING:
    from paysim.policy import ValidationReport


class ReportFormat(StrEnum):
    text = "text"
    json = "json"


class SchemaFormat(StrEnum):
    markdown = "markdown"
    json = "json"


class TreeName(StrEnum):
    payment_tree = "payment_tree"
    bank_tree = "bank_tree"
    strategic_collateral_tree = "strategic_collateral_tree"
    end_of_tick_collateral_tree = "end_of_tick_collateral_tree"


class Section(StrEnum):
    fields = "fields"
    actions = "actions"
    expressions = "expressions"
    computations = "computations"
    values = "values"
    nodes = "nodes"


def validate_policy_cmd(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE", help="Policy documents (JSON) to validate.")
    ],
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="text (one line per problem) or json.")
    ] = ReportFormat.text,
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="Also check against this scenario's settings."),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    debug: DebugOption = False,
) -> None:
    """Validate policy documents with the engine's validator.

    Exit 0 when all are valid, 1 when any is invalid, 2 when a file cannot be read.
    """
    from paysim.policy import validate_policy

    reports: list[ValidationReport] = []
    code = 0
    for path in files:
        try:
            report = validate_policy(path, scenario=scenario)
        except PaysimError as exc:
            if debug_requested(ctx):
                traceback.print_exc()
            typer.echo(f"error: {exc}", err=True)
            code = 2
            continue
        reports.append(report)
        if not report.valid or (strict and report.warnings):
            code = max(code, 1)
    if output_format is ReportFormat.json:
        payload: object = [r.to_dict() for r in reports]
        if len(files) == 1 and len(reports) == 1:
            payload = reports[0].to_dict()
        typer.echo(json.dumps(payload, indent=2))
    else:
        for r in reports:
            typer.echo(r.text.rstrip("\n"))
    raise typer.Exit(code)


def policy_schema_cmd(
    output_format: Annotated[
        SchemaFormat, typer.Option("--format", help="markdown (a reference) or json.")
    ] = SchemaFormat.markdown,
    tree: Annotated[
        TreeName | None, typer.Option("--tree", help="Only what this tree admits.")
    ] = None,
    section: Annotated[Section | None, typer.Option("--section", help="Only this part.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write to this file instead of stdout.")
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Document the policy language from the engine's registry.

    Generated from the registry the validator uses, so the two cannot disagree.
    """
    from paysim import _core

    text = _core.policy_registry(
        output_format.value,
        None if tree is None else tree.value,
        None if section is None else section.value,
    )
    if output is None:
        typer.echo(text.rstrip("\n"))
    else:
        from paysim.outputs import atomic_text

        # The user named this file as the output: replacing it is what was asked, atomically.
        with atomic_text(output, overwrite=True, what="--output") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")


def register(app: typer.Typer) -> None:
    """Adds the policy commands to the CLI."""
    app.command("validate-policy")(validate_policy_cmd)
    app.command("policy-schema")(policy_schema_cmd)
