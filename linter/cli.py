"""The `loadlint` command line. Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage/config/internal error."""

from __future__ import annotations

import gc
import io
import os
import sys
from pathlib import Path

import click

from linter import __version__
from linter.atomic_write import WriteRefused, check_writable, write_atomically
from linter.processes import EXIT_TERMINATED, Terminated, raise_on_sigterm
from linter.terminal_text import printable

# A run makes many small objects that live until it ends (rules, cached results, findings) and few cycles:
# with the default threshold (700) the collector walks them again and again, a sixth of a pre-commit run.
gc.set_threshold(10_000, 10, 10)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # as shells report a command stopped by Ctrl-C
LEVEL_CHOICES = click.Choice(["error", "warning", "note"])
DEFAULT_BASELINE_FILE = "loadlint-baseline.json"


def _split(values: tuple[str, ...]) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _tell(message: str) -> None:
    """One line on stderr. Messages quote file names, config keys and paths from the repository: shown escaped."""
    click.echo(f"loadlint: {printable(message)}", err=True)


def _fail(message: str) -> None:
    _tell(f"error: {message}")
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="loadlint")
def main() -> None:
    """Find what takes Express, Next.js and Prisma apps down under load, and the holes that let strangers in."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE (never through a symbolic link); `-`: stdout.")
@click.option("--select", multiple=True, help="Only these rules or families (comma-separated; repeatable).")
@click.option("--ignore", multiple=True, help="Skip these rules or families (comma-separated; repeatable).")
@click.option("--fail-on", type=LEVEL_CHOICES, help="Lowest level that makes the exit code 1 [default: warning].")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings or errors.")
@click.option("--category", help="SARIF automation id, to tell several uploads apart in GitHub code scanning.")
@click.option("--no-color", is_flag=True, help="Plain text output.")
@click.option("--include-suppressed", is_flag=True, help="Also show findings suppressed in the source.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Use this config file.")
@click.option("--rules-dir", type=click.Path(file_okay=False, path_type=Path), help="Also load rules from this folder.")
@click.option(
    "--trust-config-rules",
    is_flag=True,
    help="Load the config file's rules-dir (Python code from the linted tree); never on untrusted code.",
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: cores, at most 4].")
@click.option(
    "--timeout",
    metavar="SECONDS",
    help="Seconds each step (one file, finding the files, one rule's project-wide check) may take before it is "
    "stopped with a notice, up to 86400; 0: no limit [default: 60].",
)
@click.option("--no-cache", is_flag=True, help="Analyse every file again; neither read nor write the results cache.")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Report only findings beyond the counts recorded in FILE (see --write-baseline).",
)
@click.option(
    "--write-baseline",
    "write_baseline_file",
    is_flag=False,
    flag_value=DEFAULT_BASELINE_FILE,
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Record the current findings, counted per file and rule, in FILE [default: {DEFAULT_BASELINE_FILE}].",
)
@click.option(
    "--diff",
    "diff_ref",
    metavar="REF",
    help="Report only findings on lines changed since REF (its merge base with HEAD), uncommitted changes included.",
)
@click.option("--fix", "fix", is_flag=True, help="Apply safe fixes to the files, then report what is left.")
@click.option("--diff-fix", is_flag=True, help="Print the fixes as a patch instead of the report; change no file.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff-fix, also apply fixes that may change behaviour.")
def check(
    paths, fmt, output, select, ignore, fail_on, exit_zero, category, no_color, include_suppressed, config_file,
    rules_dir, trust_config_rules, jobs, timeout, no_cache, baseline_file, write_baseline_file, diff_ref, fix,
    diff_fix, unsafe_fixes,
):
    """Lint PATHS (default: the current folder)."""
    from linter.baseline import BaselineError
    from linter.diffscope import DiffError, changed_lines, keep_changed
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
        trust_config_rules=trust_config_rules,
        config_file=config_file,
        jobs=jobs,
        category=category,
        file_timeout=DEFAULT_FILE_TIMEOUT if timeout is None else _seconds(timeout) or None,
        use_cache=not no_cache,
        fresh_fixes=fix or diff_fix,
    )
    _check_baseline_options(baseline_file, write_baseline_file)
    _check_fix_options(fix, diff_fix, unsafe_fixes, write_baseline_file)

    def lint():
        result = run(options)
        report = result.report
        if baseline_file is not None or write_baseline_file is not None:
            report = _with_baseline(report, options.paths, baseline_file, write_baseline_file)
        if diff_ref is not None:
            report = keep_changed(report, changed_lines(Path(report.root), diff_ref))
        return result, report

    restore_sigterm = raise_on_sigterm()
    try:
        result, report = lint()
        buffer = io.StringIO()
        if diff_fix:
            patch = _fix_patch(report, unsafe_fixes, result.config.max_file_size)
            buffer.write(patch)
        else:
            if fix:
                result, report = _fix_files(lint, result, report, unsafe_fixes)
            to_stdout = _stream_name(output) == "stdout"
            color = to_stdout and not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()
            render(report, fmt, buffer, color=color, include_suppressed=include_suppressed)
    except (ConfigError, RuleLoadError, UsageError, BaselineError, DiffError) as error:
        _fail(str(error))
    except RecursionError:
        _fail("internal error: input nested too deeply")
    except KeyboardInterrupt:
        _tell("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Terminated:
        _tell("terminated")
        sys.exit(EXIT_TERMINATED)
    except Exception as error:  # the last line of defence: one line, never a traceback
        _fail(f"internal error: {type(error).__name__}: {error}")
    finally:
        restore_sigterm()  # from here on SIGTERM ends the process at once, as by default

    _deliver(buffer.getvalue(), output, Path(report.root))

    if exit_zero:
        sys.exit(EXIT_CLEAN)
    if diff_fix:
        sys.exit(EXIT_FINDINGS if patch else EXIT_CLEAN)
    if result.incomplete:
        sys.exit(EXIT_ERROR)
    failing = [f for f in report.active_findings if f.level.rank >= result.fail_on.rank]
    sys.exit(EXIT_FINDINGS if failing else EXIT_CLEAN)


def _seconds(text: str) -> float:
    """--timeout's value as a float; the engine checks its range (NaN and infinity included)."""
    try:
        return float(text)
    except ValueError:
        _fail(f"--timeout takes a number of seconds, not {text!r}")


MAX_FIX_PASSES = 10  # a fix that overlaps another is applied on the next pass


def _check_fix_options(fix: bool, diff_fix: bool, unsafe_fixes: bool, write_baseline: Path | None) -> None:
    if fix and diff_fix:
        _fail("use --fix or --diff-fix, not both")
    if unsafe_fixes and not (fix or diff_fix):
        _fail("--unsafe-fixes needs --fix or --diff-fix")
    if (fix or diff_fix) and write_baseline is not None:
        _fail("run --fix first, then --write-baseline for what is left")


def _fix_patch(report, unsafe: bool, max_file_size: int) -> str:
    """The fixes of `report` as a unified diff; no file is written."""
    from linter.fixes import plan_fixes, unified_diff

    outcome = plan_fixes(report, Path(report.root), unsafe, limit=max_file_size)
    _tell_about_fixes(outcome.skipped, report, unsafe)
    return unified_diff(outcome)


def _fix_files(lint, result, report, unsafe: bool):
    """Apply the fixes, linting again after each pass, until nothing is left to fix; returns the last lint.
    A file edited while this runs is left alone for the rest of the run."""
    from linter.fixes import CHANGED, plan_fixes, write_changes

    root = Path(report.root)
    fixed, files, skipped, changed = 0, set(), [], set()
    for _ in range(MAX_FIX_PASSES):
        outcome = plan_fixes(report, root, unsafe, leave=frozenset(changed), limit=result.config.max_file_size)
        written = write_changes(outcome, root) if outcome.changes else []
        skipped = outcome.skipped
        changed.update(outcome.changed)
        if not written:
            break
        fixed += sum(change.fixed for change in written)
        files.update(change.path for change in written)
        result, report = lint()
    skipped = sorted({*skipped, *(f"{path}: not fixed: {CHANGED}" for path in changed)})
    _tell(f"fixed {fixed} {_plural(fixed, 'finding')} in {len(files)} {_plural(len(files), 'file')}")
    _tell_about_fixes(skipped, report, unsafe)
    return result, report


def _tell_about_fixes(skipped: list[str], report, unsafe: bool) -> None:
    for line in skipped:
        _tell(line)
    if not unsafe:
        waiting = sum(1 for f in report.active_findings if f.fixes and not any(x.safe for x in f.fixes))
        if waiting:
            _tell(f"{waiting} more {_plural(waiting, 'fix', 'fixes')} with --unsafe-fixes")


def _plural(count: int, one: str, many: str | None = None) -> str:
    return one if count == 1 else many or one + "s"


def _check_baseline_options(read_from: Path | None, write_to: Path | None) -> None:
    if read_from is not None and write_to is not None:
        _fail("use --baseline or --write-baseline, not both (--write-baseline updates an existing file)")
    # `--write-baseline` takes an optional value, so `check --write-baseline src` would write to `src`.
    if write_to is not None and (write_to.suffix != ".json" or write_to.is_dir()):
        _fail(f"--write-baseline takes a .json file name, not {write_to}; put the option after the paths")


def _with_baseline(report, paths: list[Path], read_from: Path | None, write_to: Path | None):
    """The report without the findings the baseline accepts, after writing the baseline when asked to."""
    from linter.baseline import Scope, apply_baseline, count_findings, load_baseline, merged_baseline, write_baseline

    scope = Scope(
        root=Path(report.root),
        targets=tuple(path.resolve() for path in paths),
        rule_ids=frozenset(rule.id for rule in report.rules),
    )
    if write_to is None:
        return apply_baseline(report, load_baseline(read_from), scope, read_from.name)
    try:
        check_writable(write_to, scope.root)  # before reading it: a link there must be neither read nor written
    except WriteRefused as error:
        _fail(f"refusing to write {write_to}: {error}")
    except OSError as error:
        _fail(f"cannot write {write_to}: {error.strerror or error}")
    previous = load_baseline(write_to) if write_to.exists() else {}
    counts = merged_baseline(previous, count_findings(report.findings), scope)
    try:
        write_baseline(write_to, counts, scope.root)
    except WriteRefused as error:
        _fail(f"refusing to write {write_to}: {error}")
    except OSError as error:
        _fail(f"cannot write {write_to}: {error.strerror or error}")
    files = len({path for path, _ in counts})
    _tell(f"{write_to} records {sum(counts.values())} findings in {files} files")
    return apply_baseline(report, counts, scope, write_to.name)


# `--output` names that are not files: the report goes to the stream, or nowhere. Never replace the device.
_STREAM_NAMES = {"-": "stdout", "/dev/stdout": "stdout", "/dev/stderr": "stderr", "/dev/null": "null"}


def _stream_name(output: Path | None) -> str | None:
    return "stdout" if output is None else _STREAM_NAMES.get(str(output))


def _deliver(report: str, output: Path | None, root: Path) -> None:
    """Print the report or write it to the `--output` file, never through a link or onto a device or FIFO."""
    stream = _stream_name(output)
    if stream == "stdout":
        _echo_to_stdout(report)
    elif stream == "stderr":
        click.echo(report, nl=False, err=True)
    elif stream is None:
        _write_file(output, report, root)


def _write_file(path: Path, content: str, root: Path) -> None:
    try:
        write_atomically(path, content, root)
    except WriteRefused as error:
        _fail(f"refusing to write {path}: {error}")
    except (OSError, ValueError) as error:
        _fail(f"cannot write {path}: {getattr(error, 'strerror', None) or error}")


def _echo_to_stdout(report: str) -> None:
    try:
        click.echo(report, nl=False)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`loadlint check | head`): not an error of the run. Point stdout at devnull so
        # that Python's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


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
        _fail(f"unknown rule '{rule_id}'; `loadlint rules` lists them")
    console = Console(highlight=False, no_color="NO_COLOR" in os.environ)
    console.print(f"{rule.id}  ({rule.level.value}, precision {rule.precision.value})")
    console.print(Markdown(rule.docs()))


@main.command()
def server():
    """Run the language server (LSP) on stdin and stdout, for editors."""
    _require_extra("server", ("pygls", "lsprotocol"))
    from linter.server.lsp import serve

    serve()


@main.command()
@click.argument("workspace", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
def mcp(workspace):
    """Run the MCP server on stdin and stdout, for AI coding agents; it checks only paths inside WORKSPACE
    (default: the current folder)."""
    _require_extra("mcp", ("mcp",))
    from linter.mcp_server import serve

    serve(workspace or Path("."))


def _require_extra(extra: str, modules: tuple[str, ...]) -> None:
    """One line and exit 2 when an optional extra is not installed (the CLI itself never imports it)."""
    import importlib.util

    if any(importlib.util.find_spec(module) is None for module in modules):
        _fail(f"`loadlint {extra}` needs the {extra} extra: pip install 'loadlint[{extra}]'")


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100
