"""Fixes: how rules build them, and how `--fix` / `--diff-fix` apply them.

A rule attaches `Fix`es (plain data: byte ranges and replacement text) to its findings. The byte offsets are
those of the text the analysis parsed (after a UTF-8 byte-order mark, which stays in the file), and the analysis
stamps each fix with a digest of that text. Applying them:
- only to files that parse without errors, and only when the result parses without new errors;
- only to a file that still holds exactly the text the fixes were made for: checked when the fixes are planned
  and again just before the file is written; a file edited meanwhile is left alone, with a notice;
- a fix is all of its edits or none; one that overlaps a fix already taken waits for the next run;
- identical edits from several fixes are made once (a helper every fix of a file inserts at the same place);
- unsafe fixes only when asked;
- never through a symbolic link; each file written atomically (a temp file, then a rename) keeping its mode,
  owner and group, or in place when it has several hard links (`linter.atomic_write`);
- inserted lines end as the file's lines do (`\r\n`, `\r` or `\n`).
Applying the fixes of a run and linting again finds nothing left to fix, so a second run changes nothing.
"""

from __future__ import annotations

import codecs
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.atomic_write import WriteRefused, rewrite_if_unchanged
from linter.config import DEFAULT_MAX_FILE_SIZE
from linter.digests import blake2b
from linter.js.expressions import WRAPPERS
from linter.lazy_dataclasses import dataclass
from linter.model import Fix, Report, TextEdit
from linter.safe_read import ReadRefused, read_repository_file
from linter.syntax import LANGUAGE_BY_SUFFIX, Node, descendants_of_types, parse, walk
from linter.terminal_text import printable

if TYPE_CHECKING:
    from linter.context import FileContext


def edit(file: "FileContext", start_byte: int, end_byte: int, replacement: str) -> TextEdit:
    """Replace `start_byte:end_byte` of `file` with `replacement`."""
    return TextEdit(start_byte=start_byte, end_byte=end_byte, span=file.lines.span(start_byte, end_byte), replacement=replacement)


def replace_node(file: "FileContext", node: Node, replacement: str) -> TextEdit:
    return edit(file, node.start_byte, node.end_byte, replacement)


def top_level_insertion(file: "FileContext") -> int:
    """Where a helper goes: after the last top-level `import`, else before the first statement after any
    leading comments, hashbang and directives (`'use strict'`)."""
    program = file.root
    offset = 0
    imports = [child for child in program.named_children if child.type == "import_statement"]
    if imports:
        return _line_end(file.source, imports[-1].end_byte)
    for child in program.named_children:
        if child.type in ("comment", "hash_bang_line") or _is_directive(child):
            offset = _line_end(file.source, child.end_byte)
            continue
        break
    return offset


def _is_directive(node: Node) -> bool:
    return node.type == "expression_statement" and node.named_child_count == 1 and node.named_children[0].type == "string"


def _line_end(source: bytes, offset: int) -> int:
    """The offset just after the line break that ends the line holding `offset` (`\r\n`, `\r` or `\n`)."""
    match = _LINE_BREAK.search(source, offset)
    return len(source) if match is None else match.end()


_LINE_BREAK = lazy_re.compile(rb"\r\n?|\n")


def line_ending(source: bytes) -> str:
    """The file's line break, as its first line ends (`\n` for a file of one line)."""
    match = _LINE_BREAK.search(source)
    return "\n" if match is None else match.group().decode()


def source_digest(source: bytes) -> str:
    """What a fix records of the text its offsets refer to."""
    return blake2b(source, digest_size=16).hexdigest()


@dataclass
class FileChange:
    path: str  # relative to the root
    before: bytes
    after: bytes
    fixed: int  # findings fixed


@dataclass
class FixOutcome:
    changes: list[FileChange] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line per file left alone, saying why
    changed: list[str] = field(default_factory=list)  # files edited since they were analysed: left alone

    @property
    def fixed(self) -> int:
        return sum(change.fixed for change in self.changes)


def plan_fixes(
    report: Report,
    root: Path,
    include_unsafe: bool,
    leave: frozenset[str] = frozenset(),
    limit: int = DEFAULT_MAX_FILE_SIZE,
    given: dict[str, bytes] | None = None,
) -> FixOutcome:
    """Work out the new content of every file the report's fixes touch (but those in `leave`); writes nothing.
    `given`: the text of files the run was given instead of reading them (stdin), by path."""
    by_path: dict[str, list[Fix]] = {}
    for finding in report.active_findings:
        chosen = next((fix for fix in finding.fixes if fix.safe or include_unsafe), None)
        if chosen is not None and finding.path not in leave:
            by_path.setdefault(finding.path, []).append(chosen)
    outcome = FixOutcome()
    for path, fixes in sorted(by_path.items()):
        problem = _plan_file(root, path, fixes, limit, outcome, (given or {}).get(path))
        if problem is not None:
            outcome.skipped.append(f"{path}: not fixed: {problem}")
    return outcome


def _plan_file(
    root: Path, path: str, fixes: list[Fix], limit: int, outcome: FixOutcome, given: bytes | None = None
) -> str | None:
    """Add the change of one file to `outcome`; or say why the file is left alone."""
    language = LANGUAGE_BY_SUFFIX.get(Path(path).suffix)
    try:
        before = given if given is not None else read_repository_file(root / path, root, limit, follow_links=False)
    except ReadRefused as error:
        return "it no longer exists" if error.missing else str(error)
    if language is None:
        return "not a JavaScript or TypeScript file"
    if before.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "a UTF-16 file (save it as UTF-8 to fix it)"
    # The analysis parsed the text after a byte-order mark: the fixes' offsets count from there.
    bom = codecs.BOM_UTF8 if before.startswith(codecs.BOM_UTF8) else b""
    source = before[len(bom) :]
    digest = source_digest(source)
    if any(fix.source_digest != digest for fix in fixes):
        outcome.changed.append(path)
        return CHANGED
    if parse(source, language).root_node.has_error:
        return "it has syntax errors"
    after, applied = apply_edits(source, fixes)
    if parse(after, language).root_node.has_error:
        return "the fixed code would not parse"
    if after != source:
        outcome.changes.append(FileChange(path, before, bom + after, applied))
    return None


CHANGED = "it changed since it was analysed; run loadlint again"


def apply_edits(source: bytes, fixes: list[Fix]) -> tuple[bytes, int]:
    """`source` with every fix applied that overlaps no fix taken before it; returns it and how many were applied."""
    taken: list[TextEdit] = []
    applied = 0
    for fix in sorted(fixes, key=lambda f: min(e.start_byte for e in f.edits)):
        new = [e for e in fix.edits if e not in taken]
        if any(_overlap(e, other) for e in new for other in taken):
            continue
        taken.extend(new)
        applied += 1
    result = source
    for change in sorted(taken, key=lambda e: (e.start_byte, e.end_byte), reverse=True):
        result = result[: change.start_byte] + change.replacement.encode("utf-8") + result[change.end_byte :]
    return result, applied


def _overlap(a: TextEdit, b: TextEdit) -> bool:
    if a.start_byte == a.end_byte == b.start_byte == b.end_byte:
        return True  # two different insertions at one point: their order would be a guess
    return a.start_byte < b.end_byte and b.start_byte < a.end_byte


def write_changes(outcome: FixOutcome, root: Path) -> list[FileChange]:
    """Write each change whose file still holds what the change was planned from; returns those written, and adds
    a line to `outcome.skipped` for every other."""
    written = []
    for change in outcome.changes:
        try:
            if rewrite_if_unchanged(root / change.path, change.before, change.after, root):
                written.append(change)
                continue
            outcome.changed.append(change.path)
            problem = CHANGED
        except WriteRefused as error:
            problem = f"refusing to write it: {error}"
        except OSError as error:
            problem = f"cannot write it: {error.strerror or error}"
        outcome.skipped.append(f"{change.path}: not fixed: {problem}")
    return written


def unified_diff(outcome: FixOutcome) -> str:
    """The changes as one patch, `a/` and `b/` paths relative to the root (apply with `git apply` or `patch -p1`)."""
    import difflib  # here: only `--diff` writes a patch

    parts = []
    for change in outcome.changes:
        # Lines as patch and git count them: ended by `\n` only (a `\r` stays part of the line).
        before = _patch_lines(change.before.decode("utf-8", "surrogateescape"))
        after = _patch_lines(change.after.decode("utf-8", "surrogateescape"))
        lines = difflib.unified_diff(before, after, _patch_name(f"a/{change.path}"), _patch_name(f"b/{change.path}"))
        parts.append("".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines))
    return "".join(parts)


_C_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _patch_name(name: str) -> str:
    """A file name for a patch header, quoted as git quotes one (`"a/x\\nb.js"`, other bytes in octal) when it
    holds a control character, a quote or a backslash: a name from the repository must not start a line of
    its own or drive the terminal, and `git apply` reads the quoted form back."""
    if printable(name) == name and '"' not in name and "\\" not in name:
        return name
    quoted = []
    for byte in name.encode("utf-8", "surrogateescape"):
        char = chr(byte)
        if char in _C_ESCAPES:
            quoted.append(_C_ESCAPES[char])
        elif 0x20 <= byte < 0x7F:
            quoted.append(char)
        else:
            quoted.append(f"\\{byte:03o}")
    return '"' + "".join(quoted) + '"'


def _patch_lines(text: str) -> list[str]:
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


_NUMERIC_OPERATORS = frozenset({"-", "*", "/", "%", "**", "|", "&", "^", "<<", ">>", ">>>"})
_NUMBER_FUNCTIONS = frozenset({"parseInt", "parseFloat", "Number", "Number.parseInt", "Number.parseFloat"})


def always_a_number(node: Node | None, file: "FileContext", depth: int = 0) -> bool:
    """Whether `node` evaluates to a number (NaN included) whatever the request holds: `parseInt(x) || 20`,
    `Number(x)`, `+x`, `Math.*(…)`, arithmetic, or a `const` of the file set to one of these. A fix that wraps
    it in `Math.min(…, N)` then changes nothing but values above N."""
    while node is not None and node.type in WRAPPERS:
        node = next((child for child in node.named_children if child.type not in ("type_annotation", "comment")), None)
        if node is not None and node.type.endswith("_type"):
            return False
    if node is None or depth > 5:
        return False
    kind = node.type
    if kind == "number":
        return True
    if kind == "unary_expression":
        return node.children[0].type in ("+", "-", "~")
    if kind == "binary_expression":
        operator = node.child_by_field_name("operator").type
        if operator in _NUMERIC_OPERATORS:
            return True
        if operator in ("+", "||", "??"):
            return all(always_a_number(node.child_by_field_name(side), file, depth + 1) for side in ("left", "right"))
        return False
    if kind == "ternary_expression":
        return all(always_a_number(node.child_by_field_name(b), file, depth + 1) for b in ("consequence", "alternative"))
    if kind == "call_expression":
        function = node.child_by_field_name("function")
        name = function.text.decode("utf-8", "replace") if function is not None else ""
        return name in _NUMBER_FUNCTIONS or name.startswith("Math.")
    if kind == "identifier":
        initial = _const_value(node.text, file)
        return initial is not None and always_a_number(initial, file, depth + 1)
    return False


def _const_value(name: bytes, file: "FileContext") -> Node | None:
    """The initial value of the file's only declaration of `name`, when it is a `const`."""
    declarators = [
        candidate
        for candidate in _declarators(file)
        if (target := candidate.child_by_field_name("name")) is not None and target.type == "identifier" and target.text == name
    ]
    if len(declarators) != 1:
        return None
    declaration = declarators[0].parent
    if declaration is None or declaration.type != "lexical_declaration" or declaration.children[0].type != "const":
        return None
    return declarators[0].child_by_field_name("value")


def _declarators(file: "FileContext") -> list[Node]:
    return file.memo("fixes.declarators", lambda: descendants_of_types(file.root, ("variable_declarator",)))


def helper_insertion(file: "FileContext", name: str, definition: str) -> tuple[TextEdit, ...] | None:
    """The edit that adds the top-level function `name` (`definition`, ending in a newline) once per file:
    none when the file already declares that function at top level, None when `name` is taken by something
    else (the fix cannot be made)."""
    declared = [
        child
        for child in file.root.named_children
        if child.type == "function_declaration" and (child.child_by_field_name("name") or child).text == name.encode()
    ]
    if declared:
        return ()
    if any(node.type == "identifier" and node.text == name.encode() for node in walk(file.root)):
        return None
    offset = top_level_insertion(file)
    before, after = file.source[:offset], file.source[offset:]
    newline = line_ending(file.source)
    lines = definition.replace("\n", newline)
    # One blank line on each side, without doubling the blank lines already there.
    leading = newline if before and not before.endswith(newline.encode() * 2) else ""
    trailing = newline if after and not after.startswith((b"\n", b"\r")) else ""
    return (edit(file, offset, offset, f"{leading}{lines}{trailing}"),)
