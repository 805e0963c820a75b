"""The engine on small projects: discovery, scope, positions, suppressions, per-file ignores."""

from __future__ import annotations

import os

import pytest

from linter.engine import UsageError, find_root
from tests.project_builder import found, lint, write_files


def test_discovery_skips_dependency_folders_gitignored_and_minified_files(tmp_path):
    write_files(
        tmp_path,
        {
            ".gitignore": "generated/\n*.gen.js\n",
            "src/a.js": "new MarkerClient();\n",
            "src/b.gen.js": "new MarkerClient();\n",
            "generated/c.js": "new MarkerClient();\n",
            "node_modules/pkg/index.js": "new MarkerClient();\n",
            "dist/bundle.js": "new MarkerClient();\n",
            ".next/server.js": "new MarkerClient();\n",
            "public/vendor.min.js": "new MarkerClient();\n",
            "src/types.d.ts": "declare const x: MarkerClient;\n",
            "src/page.tsx": "export default () => <div>{new MarkerClient()}</div>;\n",
            "src/util.mts": "export const m = new MarkerClient();\n",
            "src/nested/.gitignore": "local.js\n",
            "src/nested/local.js": "new MarkerClient();\n",
        },
    )
    result = lint([tmp_path])
    assert found(result) == {
        ("src/a.js", 1, "testing/marker-client"),
        ("src/page.tsx", 1, "testing/marker-client"),
        ("src/util.mts", 1, "testing/marker-client"),
    }
    assert result.report.files_checked == 3
    assert any(n.path == "public/vendor.min.js" and "minified" in n.message for n in result.report.notices)


def test_gitignore_negations_and_anchors_are_honoured(tmp_path):
    write_files(
        tmp_path,
        {
            ".gitignore": "*.js\n!keep.js\n/top.ts\nlib/**/deep/\n# a comment\n",
            "drop.js": "new MarkerClient();\n",
            "keep.js": "new MarkerClient();\n",
            "top.ts": "new MarkerClient();\n",
            "sub/top.ts": "new MarkerClient();\n",
            "lib/a/deep/x.ts": "new MarkerClient();\n",
            "lib/a/shallow.ts": "new MarkerClient();\n",
            "src/.gitignore": "!drop.js\n",
            "src/drop.js": "new MarkerClient();\n",
        },
    )
    assert {path for path, _, _ in found(lint([tmp_path]))} == {"keep.js", "sub/top.ts", "lib/a/shallow.ts", "src/drop.js"}


def test_columns_are_utf16_code_units_and_lines_count_lone_cr(tmp_path):
    write_files(tmp_path, {"a.js": 'const s = "é😀"; const c = new MarkerClient();\r\n', "b.js": b"x;\rnew MarkerClient();\r"})
    result = lint([tmp_path])
    spans = {f.path: f.span for f in result.report.findings}
    # `const s = "é😀"; const c = ` is 27 UTF-16 units (😀 counts twice)
    assert (spans["a.js"].start_line, spans["a.js"].start_column, spans["a.js"].end_column) == (1, 28, 46)
    assert (spans["b.js"].start_line, spans["b.js"].start_column) == (2, 1)


@pytest.mark.parametrize(
    "source",
    [
        b"", b"a", b"\n", b"a\n", b"a\r\nb", b"a\rb\r", b"\r\r\n\n\r", b"x\n\ny", b"\r\n\r\n",
        b"a\x0bb\x0cc\x1cd\x1de\x1ef\xc2\x85g\xe2\x80\xa8h",  # breaks for `str.splitlines`, not for bytes
        "const s = 'é';\r\n// 😀\rend".encode(),
    ],
)  # fmt: skip
def test_lines_start_after_each_line_break_and_nowhere_else(source):
    import re

    from linter.positions import LineIndex, line_starts

    assert line_starts(source) == [0] + [m.end() for m in re.finditer(rb"\r\n|\r|\n", source)]
    assert LineIndex(source).line_count == len(line_starts(source))


def test_bom_is_not_a_column(tmp_path):
    write_files(tmp_path, {"a.js": b"\xef\xbb\xbfnew MarkerClient();\n", "u16.js": "new MarkerClient();\n".encode("utf-16")})
    result = lint([tmp_path])
    assert {(f.path, f.span.start_column) for f in result.report.findings} == {("a.js", 1), ("u16.js", 1)}


def test_passed_files_are_reported_alone_but_their_package_is_indexed(tmp_path):
    write_files(
        tmp_path,
        {
            "package.json": "{}",
            "src/a.js": "new MarkerClient();\n",
            "src/b.js": "new MarkerClient();\n",
        },
    )
    result = lint([tmp_path / "src" / "b.js"])
    assert found(result) == {("src/b.js", 1, "testing/marker-client")}


def test_root_is_the_repository_and_paths_are_relative_to_it(tmp_path):
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {"apps/api/src/a.js": "new MarkerClient();\n"})
    assert find_root(tmp_path / "apps" / "api") == tmp_path
    result = lint([tmp_path / "apps" / "api"])
    assert found(result) == {("apps/api/src/a.js", 1, "testing/marker-client")}


def test_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        lint([tmp_path / "nope"])


def test_syntax_errors_are_linted_on_the_recovered_tree(tmp_path):
    write_files(tmp_path, {"a.js": "const broken = ;\nif (ready {\nnew MarkerClient();\n"})
    result = lint([tmp_path])
    assert ("a.js", 3, "testing/marker-client") in found(result)
    assert any("syntax errors" in n.message for n in result.report.notices)


def test_deep_nesting_does_not_hit_the_recursion_limit(tmp_path):
    write_files(tmp_path, {"a.js": "x = " + "[\n" * 5000 + "]\n" * 5000 + ";\nnew MarkerClient();\n"})
    assert ("a.js", 10002, "testing/marker-client") in found(lint([tmp_path]))


def test_symlink_loop_and_symlink_out_of_root_are_not_followed(tmp_path):
    outside = write_files(tmp_path / "outside", {"evil.js": "new MarkerClient();\n"})
    project = write_files(tmp_path / "project", {"src/a.js": "new MarkerClient();\n"})
    os.symlink(project / "src", project / "src" / "loop")
    os.symlink(outside, project / "escape")
    result = lint([project])
    assert found(result) == {("src/a.js", 1, "testing/marker-client")}


class TestSuppressions:
    def test_line_next_line_and_file_directives(self, tmp_path):
        write_files(
            tmp_path,
            {
                "a.js": (
                    "new MarkerClient(); // loadlint-ignore testing/marker-client -- trailing covers this line\n"
                    "new MarkerClient();\n"
                    "// loadlint-ignore testing -- a family works too\n"
                    "new MarkerClient();\n"
                ),
                "b.js": "/* loadlint-ignore-file testing/marker-client -- generated */\nnew MarkerClient();\nnew MarkerClient();\n",
            },
        )
        result = lint([tmp_path])
        assert found(result) == {("a.js", 2, "testing/marker-client")}
        suppressed = [f for f in result.report.findings if f.suppressed]
        assert len(suppressed) == 4
        assert {f.suppression_reason for f in suppressed} >= {"generated", "a family works too"}

    def test_invalid_and_unused_directives_are_reported(self, tmp_path):
        write_files(
            tmp_path,
            {
                "a.js": (
                    "// loadlint-ignore testing/marker-client\n"
                    "new MarkerClient();\n"
                    "// loadlint-ignore testing/no-such-rule -- typo\n"
                    "new MarkerClient();\n"
                    "// loadlint-ignore testing/marker-client -- nothing here\n"
                    "const quiet = 1;\n"
                    "// loadlint-ignore -- no rule named\n"
                    "const alsoQuiet = 2;\n"
                )
            },
        )
        assert found(lint([tmp_path])) == {
            ("a.js", 1, "loadlint/invalid-suppression"),
            ("a.js", 2, "testing/marker-client"),
            ("a.js", 3, "loadlint/invalid-suppression"),
            ("a.js", 4, "testing/marker-client"),
            ("a.js", 5, "loadlint/unused-suppression"),
            ("a.js", 7, "loadlint/invalid-suppression"),
        }

    def test_directive_for_a_rule_not_selected_is_not_called_unused(self, tmp_path):
        write_files(tmp_path, {"a.js": "// loadlint-ignore testing/marker-client -- ok\nnew MarkerClient();\n"})
        assert found(lint([tmp_path], select=["testing/marker-note", "loadlint"])) == set()

    def test_jsx_comment_directive(self, tmp_path):
        write_files(
            tmp_path,
            {"p.jsx": "export const P = () => (\n  <div>\n    {/* loadlint-ignore testing -- demo */}\n    {new MarkerClient()}\n  </div>\n);\n"},
        )
        result = lint([tmp_path])
        assert found(result) == set()
        assert [f.suppressed for f in result.report.findings] == [True]


class TestConfig:
    def test_toml_select_ignore_levels_and_per_file_ignores(self, tmp_path):
        write_files(
            tmp_path,
            {
                ".loadlint.toml": (
                    'ignore = ["testing/marker-note"]\n'
                    'exclude = ["vendor/**"]\n'
                    "[per-file-ignores]\n"
                    '"scripts/**" = ["testing"]\n'
                    "[levels]\n"
                    '"testing/marker-client" = "warning"\n'
                ),
                "src/a.js": "new MarkerClient(); markerNote();\n",
                "scripts/seed.js": "new MarkerClient();\n",
                "vendor/lib.js": "new MarkerClient();\n",
            },
        )
        result = lint([tmp_path], select=None)
        assert found(result) == {("src/a.js", 1, "testing/marker-client")}
        assert [f.level.value for f in result.report.findings] == ["warning"]
        assert {r.id: r.level.value for r in result.report.rules}["testing/marker-client"] == "warning"

    def test_flags_override_the_file(self, tmp_path):
        write_files(tmp_path, {".loadlint.toml": 'select = ["testing/marker-note"]\n', "a.js": "new MarkerClient(); markerNote();\n"})
        assert found(lint([tmp_path], select=None)) == {("a.js", 1, "testing/marker-note")}
        assert found(lint([tmp_path], select=["testing/marker-client"])) == {("a.js", 1, "testing/marker-client")}

    def test_package_json_key(self, tmp_path):
        write_files(tmp_path, {"package.json": '{"name": "x", "loadlint": {"ignore": ["testing/marker-client"]}}', "a.js": "new MarkerClient(); markerNote();\n"})
        assert found(lint([tmp_path], select=None)) == {("a.js", 1, "testing/marker-note")}

    @pytest.mark.parametrize(
        "content, message",
        [
            ('selec = ["auth"]\n', "key 'selec': unknown key"),
            ('fail-on = "fatal"\n', "key 'fail-on'"),
            ('ignore = ["nosuch"]\n', "unknown rule or family 'nosuch'"),
            ('[levels]\n"testing/nope" = "error"\n', "key 'levels.testing/nope': unknown rule"),
            ('[rules."testing/marker-client"]\nfoo = 1\n', "key 'rules.testing/marker-client.foo': unknown key"),
            ("max-file-size = -1\n", "key 'max-file-size'"),
            ("this is not toml\n", "not valid TOML"),
        ],
    )
    def test_bad_config_names_file_and_key(self, tmp_path, content, message):
        from linter.config import ConfigError

        write_files(tmp_path, {".loadlint.toml": content, "a.js": "x;\n"})
        with pytest.raises(ConfigError) as raised:
            lint([tmp_path], select=None)
        assert str(raised.value).startswith(".loadlint.toml: ")
        assert message in str(raised.value)


def test_worker_processes_give_the_same_report(tmp_path):
    from io import StringIO

    from linter.formatters import render

    files = {f"src/m{i:03}.js": ("new MarkerClient();\n" if i % 3 else "markerNote();\n") for i in range(90)}
    write_files(tmp_path, files)
    outputs = []
    for jobs in (1, 2):
        out = StringIO()
        render(lint([tmp_path], jobs=jobs).report, "sarif", out)
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]
    assert outputs[0].count('"ruleId"') == 90


def test_rules_dir_config_key_loads_user_rules_when_trusted(tmp_path):
    import shutil

    from tests.project_builder import TEST_RULES

    shutil.copytree(TEST_RULES, tmp_path / "lint-rules")
    write_files(tmp_path, {"loadlint.toml": 'rules-dir = "lint-rules"\nselect = ["testing"]\n', "a.js": "new MarkerClient();\n"})
    result = lint([tmp_path], rules_dir=None, select=None, trust_config_rules=True)
    assert found(result) == {("a.js", 1, "testing/marker-client")}


def test_config_file_outside_the_root_anchors_globs_at_the_root(tmp_path):
    project = write_files(tmp_path / "project", {"vendor/a.js": "new MarkerClient();\n", "src/b.js": "new MarkerClient();\n"})
    config = write_files(tmp_path / "elsewhere", {"shared.toml": 'exclude = ["vendor/**"]\n'}) / "shared.toml"
    assert found(lint([project], config_file=config)) == {("src/b.js", 1, "testing/marker-client")}


def test_a_one_process_run_freezes_each_file_s_results_until_every_file_is_done(tmp_path, monkeypatch):
    import gc

    import linter.engine as engine

    write_files(tmp_path, {f"src/m{i}.js": "new MarkerClient();\n" for i in range(3)})
    frozen_before = []
    real_analyze_file = engine.analyze_file

    def analyze_file(*args, **kwargs):
        frozen_before.append(gc.get_freeze_count())
        return real_analyze_file(*args, **kwargs)

    monkeypatch.setattr(engine, "analyze_file", analyze_file)
    assert len(found(lint([tmp_path]))) == 3
    assert frozen_before[0] == 0 and all(count > 0 for count in frozen_before[1:])  # out of the collector's walks
    assert gc.get_freeze_count() == 0  # and given back to it: what a file left in cycles is collected in the end
