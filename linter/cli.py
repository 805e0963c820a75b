"""The `loadlint` command line. Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage/config/internal error."""

from __future__ import annotations

import atexit
import gc
import io
import os
import sys
import threading
from pathlib import Path

import click

from linter import __version__
from linter.atomic_write import WriteRefused, check_writable, write_atomically
from linter.formatters import COLOR_FORMATS, DEFAULT_WIDTH, FINGERPRINT_FORMATS, FORMATS, STATISTICS_FORMATS
from linter.processes import EXIT_TERMINATED, Terminated, raise_on_sigterm
from linter.terminal_text import printable

# A run makes many small objects that live until it ends (rules, cached results, findings) and few cycles:
# with the default threshold (700) the collector walks them again and again, a sixth of a pre-commit run.
gc.set_threshold(10_000, 10, 10)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # as shells report a command stopped by Ctrl-C
LEVEL_CHOICES = click.Choice(["error", "warning", "note"])
DEFAULT_BASELINE_FILE = "loadlint-baseline.json"
MIN_WIDTH = 40  # the narrowest the text format wraps at, however narrow the terminal


def run_command() -> None:
    """The `loadlint` command (and `python -m linter`): `main`, then the end of the process without the
    interpreter's teardown, which frees the run's objects one by one (a tenth of a second and more after a
    large run) only for the process to end. The exit handlers still run. The teardown happens as usual when
    another thread is alive or a profiler or tracer watches, and when the standard streams cannot be flushed."""
    try:
        main()
    except SystemExit as done:
        code = 0 if done.code is None else done.code
        watched = sys.getprofile() is not None or sys.gettrace() is not None
        if type(code) is not int or watched or threading.active_count() > 1:
            raise
        atexit._run_exitfuncs()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            raise done from None
        os._exit(code)


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
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE (never through a symbolic link); `-`: stdout.")
@click.option("--select", multiple=True, help="Only these rules or families (comma-separated; repeatable).")
@click.option("--ignore", multiple=True, help="Skip these rules or families (comma-separated; repeatable).")
@click.option("--fail-on", type=LEVEL_CHOICES, help="Lowest level that makes the exit code 1 [default: warning].")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings or errors.")
@click.option("--category", help="SARIF automation id, to tell several uploads apart in GitHub code scanning.")
@click.option(
    "--color",
    "color_choice",
    type=click.Choice(["auto", "always", "never"]),
    help="Colour the text and concise formats: auto (the default) colours a terminal, or any stream when "
    "FORCE_COLOR is set, unless NO_COLOR is.",
)
@click.option("--no-color", is_flag=True, help="Same as --color never.")
@click.option("--quiet", "-q", is_flag=True, help="Print the findings only: no notices, counts or summary.")
@click.option("--statistics", is_flag=True, help="Print how many findings each rule has instead of the findings.")
@click.option(
    "--stdin-filename",
    metavar="PATH",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Lint the text read from stdin (PATH `-`) as this file of its project.",
)
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
    "--no-server",
    is_flag=True,
    help="Never ask a running `loadlint server --serve-checks` for the report (as LOADLINT_NO_SERVER=1 does).",
)
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
    paths, fmt, output, select, ignore, fail_on, exit_zero, category, color_choice, no_color, quiet, statistics,
    stdin_filename, include_suppressed, config_file, rules_dir, trust_config_rules, jobs, timeout, no_cache, no_server,
    baseline_file, write_baseline_file, diff_ref, fix, diff_fix, unsafe_fixes,
):
    """Lint PATHS (default: the current folder; `-` with --stdin-filename: the text on stdin)."""
    # The engine, the rules, the report's models and what only some runs use are imported when needed: a
    # running server may answer, with the output itself.
    color_choice = _color_choice(color_choice, no_color)
    if statistics and fmt not in STATISTICS_FORMATS:
        _fail(f"--statistics prints in {', '.join(STATISTICS_FORMATS)}, not --format {fmt}")
    say = _tell if not quiet else _say_nothing
    seconds = None if timeout is None else _seconds(timeout) or None
    fingerprints = fmt in FINGERPRINT_FORMATS and not statistics and not diff_fix
    _check_baseline_options(baseline_file, write_baseline_file)
    _check_fix_options(fix, diff_fix, unsafe_fixes, write_baseline_file)
    stdin = _stdin_source(paths, stdin_filename, diff_ref)
    given_paths = list(paths) or [Path(".")]

    def run_options():
        from linter.engine import DEFAULT_FILE_TIMEOUT, RunOptions
        from linter.model import Level

        return RunOptions(
            paths=given_paths,
            select=_split(select),
            ignore=_split(ignore),
            fail_on=Level(fail_on) if fail_on else None,
            rules_dir=rules_dir,
            trust_config_rules=trust_config_rules,
            config_file=config_file,
            jobs=jobs,
            category=category,
            file_timeout=DEFAULT_FILE_TIMEOUT if timeout is None else seconds,
            use_cache=not no_cache,
            fresh_fixes=fix or diff_fix,
            fingerprints=fingerprints,
            stdin=stdin,
        )

    def served_result():
        """The result of a running server's run, or None (see linter.check_client). What a server cannot answer:
        a text not on disk, fixes (the files change between runs), rules from Python files it would have to
        import, a run without the cache, a config named relative to this folder."""
        if stdin is not None or no_server or no_cache or fix or diff_fix or rules_dir or trust_config_rules:
            return None
        if config_file is not None and not config_file.is_absolute():
            return None
        from linter.check_client import served_check

        options = {
            "select": _split(select),
            "ignore": _split(ignore),
            "fail_on": fail_on,
            "config_file": str(config_file) if config_file is not None else None,
            "category": category,
            "timeout": None if timeout is None else seconds or 0,
            "fingerprints": fingerprints,
            "render": render_request(),
        }
        return served_check(given_paths, options)

    def render_request() -> dict | None:
        """How the server may render the output for this run (see linter.check_client), or None: when a
        baseline or --diff changes the report first, or the format's output also depends on the terminal."""
        from linter.check_client import RENDERED_FORMATS

        changes_report = baseline_file is not None or write_baseline_file is not None or diff_ref is not None
        if changes_report or statistics or fmt not in RENDERED_FORMATS:
            return None
        stream = _stream_name(destination)
        color = _use_color(color_choice, fmt, stream)
        width = _text_width(stream)
        return {"format": fmt, "color": color, "include_suppressed": include_suppressed, "quiet": quiet, "width": width}

    def lint(options, served=None):
        if served is not None:
            result = served
        else:
            from linter.engine import run

            result = run(options)
        report = result.report
        read_from, read_inside = baseline_file, None
        if baseline_file is None and write_baseline_file is None and result.config.baseline is not None:
            from linter.baseline import configured_baseline

            read_from, read_inside = configured_baseline(result.config, Path(report.root))
        if read_from is not None or write_baseline_file is not None:
            scope = [stdin.path] if stdin is not None else given_paths
            report = _with_baseline(report, scope, read_from, write_baseline_file, say, read_inside)
        if diff_ref is not None:
            from linter.diffscope import changed_lines, keep_changed

            report = keep_changed(report, changed_lines(Path(report.root), diff_ref))
        return result, report

    fixed_text = None  # with --fix on stdin: the text to print, as bytes
    # The report goes to stdout; with --fix on stdin, stdout takes the fixed text and the report goes to stderr.
    destination = output if output is not None or not (fix and stdin) else Path("/dev/stderr")
    restore_sigterm = raise_on_sigterm()
    try:
        served = served_result()
        if served is not None and served.rendered is not None:
            _deliver(served.rendered, destination, Path(served.root))
            _exit_served(served, quiet, exit_zero)
        from linter.formatters import render

        if served is not None:
            result, report = lint(None, served)
        else:
            options = run_options()
            result, report = lint(options)
        buffer = io.StringIO()
        if diff_fix:
            patch = _fix_patch(report, unsafe_fixes, result.config.max_file_size, options, say)
            buffer.write(patch)
        else:
            if fix and options.stdin is not None:
                fixed_text, result, report = _fix_stdin(lint, options, result, report, unsafe_fixes, say)
            elif fix:
                result, report = _fix_files(lambda: lint(options), result, report, unsafe_fixes, say)
            stream = _stream_name(destination)
            render(
                report,
                fmt,
                buffer,
                color=_use_color(color_choice, fmt, stream),
                include_suppressed=include_suppressed,
                quiet=quiet,
                width=_text_width(stream),
                statistics=statistics,
            )
    except RecursionError:
        _fail("internal error: input nested too deeply")
    except KeyboardInterrupt:
        _tell("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Terminated:
        _tell("terminated")
        sys.exit(EXIT_TERMINATED)
    except Exception as error:  # the last line of defence: one line, never a traceback
        if _is_usage_error(error):
            _fail(str(error))
        _fail(f"internal error: {type(error).__name__}: {error}")
    finally:
        restore_sigterm()  # from here on SIGTERM ends the process at once, as by default

    if fixed_text is not None:
        _write_to_stdout(fixed_text)
    _deliver(buffer.getvalue(), destination, Path(report.root))

    if result.incomplete and quiet:
        _tell("the run is incomplete: some files or rules were not checked (run without --quiet to see why)")
    if exit_zero:
        sys.exit(EXIT_CLEAN)
    if diff_fix:
        sys.exit(EXIT_FINDINGS if patch else EXIT_CLEAN)
    if result.incomplete:
        sys.exit(EXIT_ERROR)
    failing = [f for f in report.active_findings if f.level.rank >= result.fail_on.rank]
    sys.exit(EXIT_FINDINGS if failing else EXIT_CLEAN)


def _exit_served(served, quiet: bool, exit_zero: bool) -> None:
    """Exit as `check` does after printing the output a server rendered (`linter.check_client.ServedResult`)."""
    if served.incomplete and quiet:
        _tell("the run is incomplete: some files or rules were not checked (run without --quiet to see why)")
    if exit_zero:
        sys.exit(EXIT_CLEAN)
    if served.incomplete:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if served.failing else EXIT_CLEAN)


# The errors `check` reports in one line (exit 2), by the module that raises them: only an imported module can.
_USAGE_ERRORS = (
    ("linter.config", "ConfigError"),
    ("linter.registry", "RuleLoadError"),
    ("linter.engine", "UsageError"),
    ("linter.baseline", "BaselineError"),
    ("linter.diffscope", "DiffError"),
)


def _is_usage_error(error: Exception) -> bool:
    """Whether `error` is a problem with the command, its config or its input rather than a bug."""
    return any(
        isinstance(error, getattr(sys.modules[module], name)) for module, name in _USAGE_ERRORS if module in sys.modules
    )


def _say_nothing(message: str) -> None:
    """What --quiet does with the lines that only inform (fixed counts, a written baseline)."""


def _color_choice(choice: str | None, no_color: bool) -> str:
    if no_color and choice not in (None, "never"):
        _fail(f"use --color {choice} or --no-color, not both")
    return "never" if no_color else choice or "auto"


def _use_color(choice: str, fmt: str, stream: str | None) -> bool:
    """Whether the report has colour: `always`, `never`, or (auto) when it goes to a stream that is a terminal,
    or to any stream when FORCE_COLOR is set, unless NO_COLOR is (either counts only when not empty).
    Only the text and concise formats have colour; a report written to a file has it only with `always`."""
    if fmt not in COLOR_FORMATS or choice == "never":
        return False
    if choice == "always":
        return True
    if stream not in ("stdout", "stderr"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("NO_COLOR"):
        return False
    return _stream(stream).isatty()


def _text_width(stream: str | None) -> int:
    """Where the text format wraps messages: COLUMNS when set, else the terminal's width, else 80 columns."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(MIN_WIDTH, int(columns))
    if stream in ("stdout", "stderr"):
        try:
            return max(MIN_WIDTH, os.get_terminal_size(_stream(stream).fileno()).columns)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
    return DEFAULT_WIDTH


def _stream(name: str):
    return sys.stdout if name == "stdout" else sys.stderr


def _stdin_source(paths: tuple[Path, ...], stdin_filename: Path | None, diff_ref: str | None):
    """The text on stdin and the file it stands for, when asked to lint it (`-`, or --stdin-filename alone)."""
    dash = [path for path in paths if str(path) == "-"]
    if not dash and stdin_filename is None:
        return None
    from linter.discovery import is_source
    from linter.engine import StdinSource

    if stdin_filename is None:
        _fail("reading stdin (`-`) needs --stdin-filename, the file the text stands for")
    if len(paths) > len(dash) or len(dash) > 1:
        _fail("--stdin-filename lints the text on stdin alone: give `-` as the only path, or no path")
    if not is_source(stdin_filename):
        _fail(f"--stdin-filename takes a JavaScript or TypeScript file name, not {stdin_filename}")
    if diff_ref is not None:
        _fail("--diff compares the files on disk with git; it does not apply to stdin")
    return StdinSource(path=stdin_filename, raw=sys.stdin.buffer.read())


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


def _fix_patch(report, unsafe: bool, max_file_size: int, options, say) -> str:
    """The fixes of `report` as a unified diff (of the text on stdin, when it was read); no file is written."""
    from linter.fixes import plan_fixes, unified_diff

    outcome = plan_fixes(report, Path(report.root), unsafe, limit=max_file_size, given=_given(report, options))
    _tell_about_fixes(outcome.skipped, report, unsafe, say)
    return unified_diff(outcome)


def _given(report, options) -> dict[str, bytes]:
    return {report.stdin.path: options.stdin.raw} if options.stdin is not None and report.stdin is not None else {}


def _fix_stdin(lint, options, result, report, unsafe: bool, say):
    """Apply the fixes to the text read from stdin, linting it again after each pass; returns the fixed text
    (the text read, when nothing was fixed) and the last lint. No file is written."""
    from dataclasses import replace

    from linter.engine import StdinSource
    from linter.fixes import plan_fixes

    fixed, skipped = 0, []
    for _ in range(MAX_FIX_PASSES):
        outcome = plan_fixes(report, Path(report.root), unsafe, limit=result.config.max_file_size, given=_given(report, options))
        skipped = outcome.skipped
        if not outcome.changes:
            break
        fixed += outcome.fixed
        options = replace(options, stdin=StdinSource(options.stdin.path, outcome.changes[0].after))
        result, report = lint(options)
    say(f"fixed {fixed} {_plural(fixed, 'finding')} in the text read from stdin")
    _tell_about_fixes(skipped, report, unsafe, say)
    return options.stdin.raw, result, report


def _fix_files(lint, result, report, unsafe: bool, say):
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
    say(f"fixed {fixed} {_plural(fixed, 'finding')} in {len(files)} {_plural(len(files), 'file')}")
    _tell_about_fixes(skipped, report, unsafe, say)
    return result, report


def _tell_about_fixes(skipped: list[str], report, unsafe: bool, say) -> None:
    for line in skipped:
        say(line)
    if not unsafe:
        waiting = sum(1 for f in report.active_findings if f.fixes and not any(x.safe for x in f.fixes))
        if waiting:
            say(f"{waiting} more {_plural(waiting, 'fix', 'fixes')} with --unsafe-fixes")


def _plural(count: int, one: str, many: str | None = None) -> str:
    return one if count == 1 else many or one + "s"


def _check_baseline_options(read_from: Path | None, write_to: Path | None) -> None:
    if read_from is not None and write_to is not None:
        _fail("use --baseline or --write-baseline, not both (--write-baseline updates an existing file)")
    # `--write-baseline` takes an optional value, so `check --write-baseline src` would write to `src`.
    if write_to is not None and (write_to.suffix != ".json" or write_to.is_dir()):
        _fail(f"--write-baseline takes a .json file name, not {write_to}; put the option after the paths")


def _with_baseline(
    report, paths: list[Path], read_from: Path | None, write_to: Path | None, say, read_inside: Path | None = None
):
    """The report without the findings the baseline accepts, after writing the baseline when asked to.
    `read_inside`: the root a baseline named by the repository's config is read inside."""
    from linter.baseline import Scope, apply_baseline, count_findings, load_baseline, merged_baseline, write_baseline

    scope = Scope(
        root=Path(report.root),
        targets=tuple(path.resolve() for path in paths),
        rule_ids=frozenset(rule.id for rule in report.rules),
    )
    if write_to is None:
        return apply_baseline(report, load_baseline(read_from, read_inside), scope, read_from.name)
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
    total = sum(counts.values())
    say(f"{write_to} records {total} {_plural(total, 'finding')} in {files} {_plural(files, 'file')}")
    return apply_baseline(report, counts, scope, write_to.name)


# `--output` names that are not files: the report goes to the stream, or nowhere. Never replace the device.
_STREAM_NAMES = {"-": "stdout", "/dev/stdout": "stdout", "/dev/stderr": "stderr", "/dev/null": "null"}


def _stream_name(output: Path | None) -> str | None:
    return "stdout" if output is None else _STREAM_NAMES.get(str(output))


def _deliver(report: str, output: Path | None, root: Path) -> None:
    """Print the report or write it to the `--output` file, never through a link or onto a device or FIFO."""
    stream = _stream_name(output)
    if stream == "stdout":
        _write_to_stdout(report)
    elif stream == "stderr":
        click.echo(report, nl=False, err=True, color=True)  # colour is decided before: never strip ours
    elif stream is None:
        _write_file(output, report, root)


def _write_file(path: Path, content: str, root: Path) -> None:
    try:
        write_atomically(path, content, root)
    except WriteRefused as error:
        _fail(f"refusing to write {path}: {error}")
    except (OSError, ValueError) as error:
        _fail(f"cannot write {path}: {getattr(error, 'strerror', None) or error}")


def _write_to_stdout(content: str | bytes) -> None:
    """Text (a report) or bytes (a file's fixed text, exactly) on stdout."""
    try:
        if isinstance(content, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        else:
            click.echo(content, nl=False, color=True)  # colour is decided before: never strip ours
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`loadlint check | head`): not an error of the run. Point stdout at devnull so
        # that Python's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _rule_source_options(command):
    """The options that choose the rules a command knows: as `check` takes them."""
    command = click.option(
        "--trust-config-rules", is_flag=True, help="Also load the config file's rules-dir (Python code); see `check`."
    )(command)
    command = click.option(
        "--rules-dir", type=click.Path(file_okay=False, path_type=Path), help="Also load rules from this folder."
    )(command)
    return click.option(
        "--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Use this config file."
    )(command)


def _known_rules(config_file: Path | None, rules_dir: Path | None, trust_config_rules: bool):
    """The rules `check` would know in the current folder, and the config there; one line and exit 2 when the
    config or a rules folder cannot be loaded."""
    from linter.config import ConfigError
    from linter.engine import RunOptions, known_rules
    from linter.registry import RuleLoadError

    options = RunOptions(rules_dir=rules_dir, trust_config_rules=trust_config_rules, config_file=config_file)
    try:
        rules, config, untrusted = known_rules(options, Path.cwd())
    except (ConfigError, RuleLoadError) as error:
        _fail(str(error))
    if untrusted is not None:
        _tell(untrusted.message)
    return rules, config


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_rule_source_options
def list_rules(fmt, config_file, rules_dir, trust_config_rules):
    """List every rule: the built-in ones and those of --rules-dir (or the config's, trusted), at the levels the
    config here gives them."""
    import json

    rules, config = _known_rules(config_file, rules_dir, trust_config_rules)
    infos = [rule.info(config.levels.get(rule.id)) for rule in rules]
    if fmt == "json":
        click.echo(json.dumps([info.model_dump(mode="json", exclude={"docs"}) for info in infos], indent=2, sort_keys=True))
        return
    from rich.table import Table

    table = Table("id", "level", "precision", "summary", box=None, pad_edge=False)
    for rule, info in zip(rules, infos):
        table.add_row(printable(info.id), _level_cell(rule, info, config), info.precision.value, printable(info.summary))
    width = max(100, _terminal_width())
    console = _rich_console(width=width)
    console.print(table)
    notes = _level_notes(rules, infos, config)
    if notes:
        from rich.text import Text

        from linter.formatters.text import wrapped

        console.print()
        for note in notes:
            for line in wrapped(Text(), note, width, 2):
                console.print(line)


def _level_cell(rule, info, config) -> str:
    if rule.id in config.levels:
        return f"{info.level.value} (config)"
    return f"{info.level.value}*" if info.other_levels else info.level.value


def _level_notes(rules, infos, config) -> list[str]:
    """What the marks of the level column mean: the findings a rule reports at another level, the levels set
    by the config."""
    notes = [
        f"* {printable(info.id)} reports {_other_levels_text(info)}"
        for info in infos
        if info.other_levels
    ]
    if any(rule.id in config.levels for rule in rules):
        notes.append(f"(config): the level {printable(config.source or 'the config')} sets for all of the rule's findings")
    return notes


def _other_levels_text(info) -> str:
    return "; ".join(f"{level.value}s for {printable(what)}" for level, what in info.other_levels)


@main.command()
@click.argument("rule_id", metavar="RULE_OR_FAMILY")
@_rule_source_options
def explain(rule_id, config_file, rules_dir, trust_config_rules):
    """Show a rule's documentation, or list the rules of a family (`loadlint explain auth`)."""
    from rich.markdown import Markdown

    from linter.docs import frameworks_text

    rules, config = _known_rules(config_file, rules_dir, trust_config_rules)
    console = _rich_console()
    wanted = rule_id.strip().rstrip("/")
    family = [rule for rule in rules if rule.id.split("/")[0] == wanted]
    if family:
        from rich.table import Table

        console.print(f"{printable(wanted)}: {len(family)} {_plural(len(family), 'rule')}")
        table = Table("id", "level", "summary", box=None, pad_edge=False)
        for rule in family:
            info = rule.info(config.levels.get(rule.id))
            table.add_row(printable(rule.id), _level_cell(rule, info, config), printable(info.summary))
        console.print(table)
        console.print(f"`loadlint explain {printable(family[0].id)}` shows a rule's documentation.")
        return
    rule = next((r for r in rules if r.id == wanted), None)
    if rule is None:
        _fail(f"unknown rule '{rule_id}'; {_suggestion(wanted, rules)}")
    info = rule.info(config.levels.get(rule.id))
    console.print(f"{printable(rule.id)}  ({info.level.value}, precision {info.precision.value})")
    if info.other_levels:
        console.print(f"It reports {_other_levels_text(info)}.")
    elif rule.id in config.levels:
        console.print(f"{printable(config.source or 'The config')} sets the level of all its findings.")
    frameworks = frameworks_text(rule)
    if frameworks is not None:
        console.print(f"Frameworks it understands: {printable(frameworks)}.")
    console.print(Markdown(rule.docs()))


def _suggestion(wanted: str, rules) -> str:
    """"did you mean auth/secret-fallback?", or where to look."""
    import difflib

    names = [rule.id for rule in rules] + sorted({rule.id.split("/")[0] for rule in rules})
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else "`loadlint rules` lists them"


def _rich_console(width: int | None = None):
    from rich.console import Console

    return Console(highlight=False, markup=False, emoji=False, no_color=bool(os.environ.get("NO_COLOR")), width=width)


@main.command("config-schema")
@click.option("--package-json", is_flag=True, help="A schema for package.json's \"loadlint\" key instead.")
@click.option("--rules-dir", type=click.Path(file_okay=False, path_type=Path), help="Include the options of these rules too.")
def config_schema(package_json, rules_dir):
    """Print the JSON Schema of the config file, for editors (see the README)."""
    from linter.config_schema import config_schema as schema_of, package_json_schema, schema_text
    from linter.engine import all_rules
    from linter.registry import RuleLoadError

    try:
        rules = all_rules(rules_dir)
    except RuleLoadError as error:
        _fail(str(error))
    click.echo(schema_text(package_json_schema(rules) if package_json else schema_of(rules)), nl=False)


@main.command()
@click.option(
    "--serve-checks",
    is_flag=True,
    help="Also answer `loadlint check` runs (a pre-commit hook's) of the projects open in the editor, from this "
    "warm process, over a socket private to you.",
)
def server(serve_checks):
    """Run the language server (LSP) on stdin and stdout, for editors."""
    _require_extra("server", ("pygls", "lsprotocol"))
    from linter.server.lsp import serve

    serve(serve_checks)


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
