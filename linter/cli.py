"""The `prodlint` command line. Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage/config/internal error."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

import click

from linter import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # as shells report a command stopped by Ctrl-C
LEVEL_CHOICES = click.Choice(["error", "warning", "note"])


def _split(values: tuple[str, ...]) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _fail(message: str) -> None:
    click.echo(f"prodlint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="prodlint")
def main() -> None:
    """Find what takes Express, Next.js and Prisma apps down under load, and the holes that let strangers in."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
@click.option("--select", multiple=True, help="Only these rules or families (comma-separated; repeatable).")
@click.option("--ignore", multiple=True, help="Skip these rules or families (comma-separated; repeatable).")
@click.option("--fail-on", type=LEVEL_CHOICES, help="Lowest level that makes the exit code 1 [default: warning].")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings or errors.")
@click.option("--category", help="SARIF automation id, to tell several uploads apart in GitHub code scanning.")
@click.option("--no-color", is_flag=True, help="Plain text output.")
@click.option("--include-suppressed", is_flag=True, help="Also show findings suppressed in the source.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Use this config file.")
@click.option("--rules-dir", type=click.Path(file_okay=False, path_type=Path), help="Also load rules from this folder.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: cores, at most 4].")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    help="Seconds one file may take before it is skipped with a notice; 0: no limit [default: 20].",
)
def check(paths, fmt, output, select, ignore, fail_on, exit_zero, category, no_color, include_suppressed, config_file, rules_dir, jobs, timeout):
    """Lint PATHS (default: the current folder)."""
    from linter.config import ConfigError
    from linter.engine import DEFAULT_FILE_TIMEOUT, RunOptions, UsageError, run
    from linter.formatters import render
    from linter.model import Level
    from linter.registry import RuleLoadError

    options = RunOptions(
        paths=list(paths) or [Path(".")],
        select=_split(select),
        ignore=_split(ignore),
        fail_on=Level(fail_on) if fail_on else None,
        rules_dir=rules_dir,
        config_file=config_file,
        jobs=jobs,
        category=category,
        file_timeout=DEFAULT_FILE_TIMEOUT if timeout is None else timeout or None,
    )
    try:
        result = run(options)
        color = output is None and not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()
        buffer = io.StringIO()
        render(result.report, fmt, buffer, color=color, include_suppressed=include_suppressed)
    except (ConfigError, RuleLoadError, UsageError) as error:
        _fail(str(error))
    except RecursionError:
        _fail("internal error: input nested too deeply")
    except KeyboardInterrupt:
        click.echo("prodlint: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # the last line of defence: one line, never a traceback
        _fail(f"internal error: {type(error).__name__}: {error}")

    if output is None:
        _echo_to_stdout(buffer.getvalue())
    else:
        try:
            _write_atomically(output, buffer.getvalue())
        except (OSError, ValueError) as error:
            _fail(f"cannot write {output}: {getattr(error, 'strerror', None) or error}")

    if exit_zero:
        sys.exit(EXIT_CLEAN)
    if result.incomplete:
        sys.exit(EXIT_ERROR)
    failing = [f for f in result.report.active_findings if f.level.rank >= result.fail_on.rank]
    sys.exit(EXIT_FINDINGS if failing else EXIT_CLEAN)


def _echo_to_stdout(report: str) -> None:
    try:
        click.echo(report, nl=False)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`prodlint check | head`): not an error of the run. Point stdout at devnull so
        # that Python's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _write_atomically(path: Path, content: str) -> None:
    folder = path.resolve().parent
    handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(content)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_rules(fmt):
    """List every rule."""
    import json

    from linter.registry import builtin_rules

    rules = builtin_rules()
    if fmt == "json":
        infos = [rule.info().model_dump(mode="json", exclude={"docs"}) for rule in rules]
        click.echo(json.dumps(infos, indent=2, sort_keys=True))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "level", "precision", "summary", box=None, pad_edge=False)
    for rule in rules:
        table.add_row(rule.id, rule.level.value, rule.precision.value, rule.summary())
    Console(highlight=False, no_color="NO_COLOR" in os.environ, width=max(100, _terminal_width())).print(table)


@main.command()
@click.argument("rule_id")
def explain(rule_id):
    """Show a rule's documentation."""
    from rich.console import Console
    from rich.markdown import Markdown

    from linter.registry import builtin_rules

    rule = next((r for r in builtin_rules() if r.id == rule_id), None)
    if rule is None:
        _fail(f"unknown rule '{rule_id}'; `prodlint rules` lists them")
    console = Console(highlight=False, no_color="NO_COLOR" in os.environ)
    console.print(f"{rule.id}  ({rule.level.value}, precision {rule.precision.value})")
    console.print(Markdown(rule.docs()))


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100
