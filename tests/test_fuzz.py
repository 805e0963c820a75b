"""A short fuzz run in every test run: random programs and mutated fixtures never break loadlint's promises.

The property lives in tests/fuzzing.py (`check_input`); tests/fuzz_long.py runs it on many more inputs.
Derandomized, so that CI sees the same inputs every time; the long run explores.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from tests.fuzzing import check_input, fuzz_files, generated_sources, mutated_fixtures

SUITE_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,  # no .hypothesis folder in the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SUITE_SETTINGS
@given(source=generated_sources())
def test_generated_programs(source):
    with tempfile.TemporaryDirectory() as workdir:
        check_input(Path(workdir), "src/generated.ts", source)


@SUITE_SETTINGS
@given(mutated=mutated_fixtures())
def test_mutated_fixtures(mutated):
    suffix, data = mutated
    with tempfile.TemporaryDirectory() as workdir:
        check_input(Path(workdir), "src/mutated" + suffix, data)


@SUITE_SETTINGS
@given(file=fuzz_files())
def test_any_suffix(file):
    name, data = file
    with tempfile.TemporaryDirectory() as workdir:
        check_input(Path(workdir), name, data)
