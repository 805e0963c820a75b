"""The modules a file reaches, read from its bytes without parsing it: for the files no rule needs a syntax
tree of, whose imports still feed the project's import graph.

`scanned_references(source, language)` gives what `linter.js.imports.collect_references` gives for the
parsed file (specifiers and kinds, in document order), or None when the bytes hold something it does not
read with certainty (JSX before the last import-like word, a `/` that may start a regular expression or
divide, an unterminated string, a construct the parser reads in a way of its own): the caller then parses.

Only the words that may begin a module reference (`import`, `export … from`, `require(`) matter, so the file
is read up to the last of them: comments, strings, template literals and regular expressions are skipped
so that a word inside them is not taken for code. The forms are read as the parser reads them, quirks
included: `require(/* c */ 'm')` and `import(/* c */ 'm')` have a comment as their first argument and reach
no module.
"""

from __future__ import annotations

from linter import lazy_re
from linter.js.imports import ModuleReference

_IDENT = rb"[\w$\x80-\xff]"
_TRIVIA = rb"(?:\s|//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)*"
# The words that may begin a module reference, each with what must follow it to reach a module: an import
# statement or `import(`, `export [type] * …` or `export [type] { … } from`, a call of `require`. A `/` (a
# comment, perhaps) where the form goes on, or a list too long to read here, keeps the word. Linear: possessive
# and bounded, as a crafted file may hold the words many times. (Text that only mentions the words, in JSX
# say, seldom reads so.)
_NAME_THEN = _IDENT + rb"++\s*+"
_FROM = rb"from(?!" + _IDENT + rb")"
_MAY_REACH = {
    b"import": lazy_re.compile(
        rb"import\s*+(?:[/('\"{*]|" + _NAME_THEN + rb"(?:[/,=*{]|" + _FROM + rb")|type\s*+" + _NAME_THEN
        + rb"(?:[/,=]|" + _FROM + rb"))"
    ),
    b"export": lazy_re.compile(
        rb"export\s*+(?:type\s*+)?+(?:[/*]|import|\{[^}/]{0,512}+(?:\}\s*+(?:/|" + _FROM + rb")|[^}]))"
    ),
    b"require": lazy_re.compile(rb"require\s*+[/(<?`]"),
}
# The usual import statement, read at once: `import [type] a, { b, c as d } from "m"`, `import * as n from "m"`.
_SIMPLE_IMPORT = lazy_re.compile(
    rb"import(?P<type>\s+type)?\s*(?:" + _IDENT + rb"+\s*(?:,\s*)?)?(?:\{[^}'\"/`]*\}|\*\s*as\s+" + _IDENT
    + rb"+)?\s*from\s*(?P<value>'[^'\\\r\n]*'|\"[^\"\\\r\n]*\")"
)
_TRIVIA_AT = lazy_re.compile(_TRIVIA)
_COMMENT_IN = lazy_re.compile(rb"//|/\*")
_STRING = lazy_re.compile(rb"""'(?:[^'\\\r\n]|\\(?:\r\n|[\s\S]))*'|"(?:[^"\\\r\n]|\\(?:\r\n|[\s\S]))*\"""")
_TEMPLATE_TEXT = lazy_re.compile(rb"(?:[^`\\$]|\\[\s\S]|\$(?!\{))*")
_PLAIN_TEMPLATE = lazy_re.compile(rb"`((?:[^`\\$]|\\[\s\S]|\$(?!\{))*)`")
_REGEX = lazy_re.compile(rb"/(?:[^/\\\[\r\n]|\\[^\r\n]|\[(?:[^\]\\\r\n]|\\[^\r\n])*\])+/" + _IDENT + rb"*")
_NAME = lazy_re.compile(_IDENT + rb"+")
# What code is scanned for: the tokens that change what the bytes after them are, and the words.
_WORDS = rb"(?<![\w$#\x80-\xff])(?:import|export|require)(?!" + _IDENT + rb")"  # not in a name, nor `#require`
_CODE = lazy_re.compile(rb"""['"`/{}]|""" + _WORDS)
_CODE_JSX = lazy_re.compile(rb"""['"`/{}<]|""" + _WORDS)
# Words after which a `/` begins a regular expression and a `<` a JSX element: the others end an operand.
_OPERATOR_WORDS = frozenset(
    b"return typeof instanceof in of new delete void throw case do else yield await extends".split()
)
_SPACE = b" \t\n\r\v\f"
_IDENT_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$" + bytes(range(0x80, 0x100)))
_NAME_BYTES = _IDENT_BYTES | {ord("#")}  # a word after one of these is part of a name, or a private one
_OPERAND_END = frozenset(b")]'\"`")


class _Unsure(Exception):
    """The bytes hold something the scan does not read with certainty."""


def scanned_references(source: bytes, language: str) -> list[ModuleReference] | None:
    """The module references of the file, as its syntax tree would give them, or None when unsure."""
    last = _last_word_reaching(source)
    if last == -1:
        return []
    try:
        return _Scan(source, language).run(last)
    except _Unsure:
        return None


def _last_word_reaching(source: bytes) -> int:
    """Where the last word that may begin a module reference is, or -1. (Found from the end: `bytes.rfind`
    is far faster than a regular expression over the whole file.)"""
    last = -1
    for word, reaching in _MAY_REACH.items():
        at = source.rfind(word)
        while at > last:
            if (at == 0 or source[at - 1] not in _NAME_BYTES) and reaching.match(source, at):
                last = at
                break
            at = source.rfind(word, 0, at)
    return last


class _Scan:
    def __init__(self, source: bytes, language: str) -> None:
        self.src = source
        self.javascript = language == "javascript"  # its grammar has no TypeScript
        self.code = _CODE if language == "typescript" else _CODE_JSX  # the others have JSX
        self.comment_starts: dict[int, int] = {}  # end -> start of each comment skipped
        self.found: list[ModuleReference] = []

    def run(self, last: int) -> list[ModuleReference]:
        src = self.src
        pos = src.index(b"\n") + 1 if src.startswith(b"#!") and b"\n" in src else 0
        if src.startswith(b"#!") and pos == 0:
            return []
        stack: list[bytes] = []  # b"{" for a brace, b"$" for a template's substitution
        while True:
            match = self.code.search(src, pos)
            if match is None or match.start() > last:
                return self.found
            at = match.start()
            char = src[at : at + 1]
            if char in (b"'", b'"'):
                pos = self._string_end(at)
            elif char == b"`":
                pos = self._template(at + 1, stack)
            elif char == b"/":
                pos = self._slash(at)
            elif char == b"{":
                stack.append(b"{")
                pos = at + 1
            elif char == b"}":
                if not stack:
                    raise _Unsure
                pos = self._template(at + 1, stack) if stack.pop() == b"$" else at + 1
            elif char == b"<":
                if self._before(at) != "operand":
                    raise _Unsure  # a JSX element may begin here
                pos = at + 1
            else:
                pos = self._word(at, match.group())

    # lexing ------------------------------------------------------------------------------------------

    def _string_end(self, at: int) -> int:
        match = _STRING.match(self.src, at)
        if match is None:
            raise _Unsure
        return match.end()

    def _template(self, at: int, stack: list[bytes]) -> int:
        """Past the template text from `at` to its end, or into a substitution."""
        end = _TEMPLATE_TEXT.match(self.src, at).end()
        if self.src.startswith(b"`", end):
            return end + 1
        if self.src.startswith(b"${", end):
            stack.append(b"$")
            return end + 2
        raise _Unsure

    def _slash(self, at: int) -> int:
        src = self.src
        following = src[at + 1 : at + 2]
        if following == b"/":
            end = src.find(b"\n", at)
            end = len(src) if end == -1 else end
            self.comment_starts[end - 1 if src[end - 1] == ord("\r") else end] = at  # a space ends it
            return end
        if following == b"*":
            end = src.find(b"*/", at + 2)
            if end == -1:
                raise _Unsure
            self.comment_starts[end + 2] = at
            return end + 2
        before = self._before(at)
        if before == "operand":
            return at + 1  # division
        if before != "operator":
            raise _Unsure
        match = _REGEX.match(src, at)
        if match is None:
            raise _Unsure
        return match.end()

    def _before(self, at: int) -> str:
        """What the code before `at` ends with: "operand" (a name, a literal, a closing bracket), "operator"
        (an operator, an opening bracket, a keyword, the start of the file), or "unsure"."""
        src = self.src
        end = self._code_end_before(at)
        if end == 0:
            return "operator"
        last = src[end - 1]
        if last in _IDENT_BYTES:
            start = end - 1
            while start > 0 and src[start - 1] in _IDENT_BYTES:
                start -= 1
            if start > 0 and src[start - 1] == ord("."):
                return "operand"  # a property, even when named like a keyword
            return "operator" if src[start:end] in _OPERATOR_WORDS else "operand"
        if last in _OPERAND_END:
            return "operand"
        if last in b"}.#@\\":
            return "unsure"  # a block or an object; a number such as `1.`
        if last in b"+-" and end > 1 and src[end - 2] == last:
            return "unsure"  # `x++ /` divides
        return "operator"

    def _code_end_before(self, at: int) -> int:
        """Where the code before `at` ends, past the spaces and comments between."""
        end = at
        while True:
            while end > 0 and self.src[end - 1] in _SPACE:
                end -= 1
            start = self.comment_starts.get(end)
            if start is None:
                return end
            end = start

    def _trivia(self, at: int) -> tuple[int, bool]:
        """Past the spaces and comments from `at`, and whether there was a comment."""
        end = _TRIVIA_AT.match(self.src, at).end()
        return end, _COMMENT_IN.search(self.src, at, end) is not None

    def _token(self, at: int) -> bytes:
        """The token at `at` as far as the forms need: a name, or one byte."""
        match = _NAME.match(self.src, at)
        return match.group() if match is not None else self.src[at : at + 1]

    def _literal(self, at: int) -> tuple[str, int] | None:
        """The value and end of a plain string or substitution-free template literal at `at`."""
        src = self.src
        if src[at : at + 1] in (b"'", b'"'):
            end = self._string_end(at)
            return src[at + 1 : end - 1].decode("utf-8", "replace"), end
        match = _PLAIN_TEMPLATE.match(src, at)
        if match is not None:
            return match.group(1).decode("utf-8", "replace"), match.end()
        return None

    # the words ---------------------------------------------------------------------------------------

    def _word(self, at: int, word: bytes) -> int:
        after = at + len(word)
        before = self._member_or_spread(at)
        if before == "member":
            return after
        if word == b"require":
            self._require(at, after)
            return after
        if word == b"import":
            return self._import(at, after)
        return self._export(at, after)

    def _member_or_spread(self, at: int) -> str:
        end = self._code_end_before(at)
        if end == 0 or self.src[end - 1] != ord("."):
            return ""
        if self.src[end - 3 : end] == b"...":
            return "spread"
        return "member"

    def _require(self, at: int, after: int) -> None:
        word_start = self._code_end_before(at)
        if self.src[max(0, word_start - 3) : word_start] == b"new" and (
            word_start < 4 or self.src[word_start - 4] not in _IDENT_BYTES
        ):
            raise _Unsure
        at_open, _ = self._trivia(after)
        token = self.src[at_open : at_open + 1]
        if token in (b"<", b"?", b"`"):
            raise _Unsure
        if token != b"(":
            return
        value_at, comment = self._trivia(at_open + 1)
        literal = None if comment else self._literal(value_at)
        if literal is None:
            return
        value, end = literal
        end, comment = self._trivia(end)
        if not comment and self.src[end : end + 1] == b",":
            end, comment = self._trivia(end + 1)
        if not comment and self.src[end : end + 1] == b")":
            self.found.append(ModuleReference(value, "require", at, end + 1))

    def _import(self, at: int, after: int) -> int:
        src = self.src
        at_next, _ = self._trivia(after)
        token = src[at_next : at_next + 1]
        if token == b"(":
            value_at, comment = self._trivia(at_next + 1)
            literal = None if comment else self._literal(value_at)
            if literal is not None:
                end, _ = self._trivia(literal[1])
                if src[end : end + 1] in (b",", b")"):  # the whole first argument
                    self.found.append(ModuleReference(literal[0], "dynamic", at, end))
            return after  # the arguments are code
        if token == b".":
            return after  # import.meta
        if token in (b"'", b'"'):
            value, end = self._literal(at_next)
            self.found.append(ModuleReference(value, "import", at, end))
            return end
        simple = _SIMPLE_IMPORT.match(src, at)
        if simple is not None and not (self.javascript and simple.group("type")):
            value = simple.group("value")[1:-1].decode("utf-8", "replace")
            self.found.append(ModuleReference(value, "import", at, simple.end()))
            return simple.end()
        return self._import_clause(at, at_next)

    def _import_clause(self, at: int, pos: int) -> int:
        """`import a, { b as c, type d, 'e' as f } from 'm'`, `import * as n from 'm'`, `import x = require('m')`."""
        src = self.src
        first = True
        while True:
            token = self._token(pos)
            if token == b"":
                raise _Unsure
            if token == b"type" and first and self.javascript and self._type_modifier(pos):
                raise _Unsure  # `import type` in a JavaScript file: the parser recovers from it in its own way
            first = False
            if token == b"from":
                at_value, _ = self._trivia(pos + 4)
                if src[at_value : at_value + 1] in (b"'", b'"'):
                    value, end = self._literal(at_value)
                    self.found.append(ModuleReference(value, "import", at, end))
                    return end
                pos = at_value
                continue
            if token == b"=":
                return self._import_require(at, pos + 1)
            if token in (b"'", b'"'):
                pos = self._string_end(pos)
            elif _NAME.match(token) or token in (b"{", b"}", b",", b"*"):
                pos += len(token)
            else:
                raise _Unsure
            pos, _ = self._trivia(pos)

    def _type_modifier(self, pos: int) -> bool:
        """Whether the `type` at `pos` modifies the import rather than names its default export."""
        following, _ = self._trivia(pos + 4)
        return self._token(following) not in (b"from", b",")

    def _import_require(self, at: int, pos: int) -> int:
        """`import x = require('m')` (TypeScript): a reference of kind "require"; `import x = A.B`: none."""
        src = self.src
        pos, _ = self._trivia(pos)
        if self._token(pos) != b"require":
            return pos
        pos, _ = self._trivia(pos + len(b"require"))
        if src[pos : pos + 1] != b"(":
            raise _Unsure
        pos, _ = self._trivia(pos + 1)
        literal = self._literal(pos) if src[pos : pos + 1] in (b"'", b'"') else None
        if literal is None:
            raise _Unsure
        value, end = literal
        end, _ = self._trivia(end)
        if src[end : end + 1] != b")":
            raise _Unsure
        self.found.append(ModuleReference(value, "require", at, end + 1))
        return end + 1

    def _export(self, at: int, after: int) -> int:
        pos, _ = self._trivia(after)
        token = self._token(pos)
        if token == b"import":
            raise _Unsure  # `export import x = require('m')`: the parser recovers from it in its own way
        if token == b"type":
            following, _ = self._trivia(pos + 4)
            if self._token(following) in (b"*", b"{"):
                if self.javascript:
                    raise _Unsure  # `export type` in a JavaScript file
                pos, token = following, self._token(following)
        if token == b"*":
            pos, _ = self._trivia(pos + 1)
            if self._token(pos) == b"as":
                pos, _ = self._trivia(pos + 2)
                name = self._token(pos)
                if name in (b"'", b'"'):
                    pos = self._string_end(pos)
                elif _NAME.match(name):
                    pos += len(name)
                else:
                    raise _Unsure
                pos, _ = self._trivia(pos)
            return self._export_source(at, pos, required=True)
        if token == b"{":
            pos, _ = self._trivia(pos + 1)
            while True:
                token = self._token(pos)
                if token == b"}":
                    break
                if token in (b"'", b'"'):
                    pos = self._string_end(pos)
                elif _NAME.match(token) or token == b",":
                    pos += len(token)
                else:
                    raise _Unsure
                pos, _ = self._trivia(pos)
            pos, _ = self._trivia(pos + 1)
            return self._export_source(at, pos, required=False)
        return after

    def _export_source(self, at: int, pos: int, required: bool) -> int:
        src = self.src
        if self._token(pos) == b"from":
            at_value, _ = self._trivia(pos + 4)
            if src[at_value : at_value + 1] in (b"'", b'"'):
                value, end = self._literal(at_value)
                self.found.append(ModuleReference(value, "export", at, end))
                return end
            raise _Unsure
        if required:
            raise _Unsure
        return pos
