"""The long fuzz run, by hand (not collected by pytest):

    python -m tests.fuzz_long --examples 20000 --seed 1

Checks the same property as tests/test_fuzz.py (`tests.fuzzing.check_input`) on many random inputs. Unlike the
test, it does not stop at the first failure: every distinct failure is counted and its first input saved to
`--save` (one file each, named by the failure), so that one run shows everything it found. Exits 1 if anything
failed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.fuzzing import check_input, fuzz_files

BATCH_SIZE = 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz_long", description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=5000, help="inputs to generate (default: 5000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed, to replay a run (default: 0)")
    parser.add_argument("--save", type=Path, default=Path(tempfile.gettempdir()) / "loadlint-fuzz",
                        help="folder for the inputs that failed (default: %(default)s)")
    args = parser.parse_args(argv)

    # Each input is a new root, so a new results cache: keep them out of the user's cache folder. The second
    # run of every input then reads the cache the first one wrote, so cached and fresh reports are compared.
    cache_home = tempfile.TemporaryDirectory(prefix="loadlint-fuzz-cache-")
    os.environ["XDG_CACHE_HOME"] = cache_home.name
    tally = _Tally(args.save)
    started = time.monotonic()
    # Hypothesis remembers every input of a run (to avoid repeats), so a long run is many short ones.
    for batch, start in enumerate(range(0, args.examples, BATCH_SIZE)):
        _fuzz_batch(tally, seed_=args.seed * 1_000_003 + batch, examples=min(BATCH_SIZE, args.examples - start))
        elapsed = time.monotonic() - started
        print(f"{tally.inputs} inputs, {sum(tally.failures.values())} failures, {elapsed:.0f} s", flush=True)
    tally.print_summary(time.monotonic() - started)
    cache_home.cleanup()
    return 1 if tally.failures else 0


def _fuzz_batch(tally: "_Tally", seed_: int, examples: int) -> None:
    @seed(seed_)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # failures are recorded, not raised: nothing to shrink
        suppress_health_check=list(HealthCheck),
    )
    @given(file=fuzz_files())
    def fuzz(file):
        tally.check(*file)

    fuzz()


class _Tally:
    def __init__(self, save: Path) -> None:
        self.save = save
        self.inputs = 0
        self.bytes = 0
        self.kinds: Counter[str] = Counter()
        self.notices: Counter[str] = Counter()
        self.findings: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()

    def check(self, name: str, data: bytes) -> None:
        self.inputs += 1
        self.bytes += len(data)
        self.kinds["generated" if "generated" in name else "mutated fixture"] += 1
        with tempfile.TemporaryDirectory() as workdir:
            try:
                report = check_input(Path(workdir), name, data)
            except Exception as error:  # every failure is recorded and the run goes on
                self._record(f"{type(error).__name__}: {error}", name, data)
                return
        self.notices.update(_kind_of(n.message) for n in report.notices)
        self.findings.update(f.rule_id for f in report.findings)

    def _record(self, failure: str, name: str, data: bytes) -> None:
        signature = re.sub(r"\d+", "N", failure.splitlines()[0])[:200]
        self.failures[signature] += 1
        if self.failures[signature] == 1:
            self.save.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^\w]+", "-", signature)[:80].strip("-")
            (self.save / f"{slug}{Path(name).suffix}").write_bytes(data)
            print(f"FAILURE {signature}\n  input saved to {self.save / slug}{Path(name).suffix}", flush=True)

    def print_summary(self, seconds: float) -> None:
        print(f"\n{self.inputs} inputs ({', '.join(f'{n} {k}' for k, n in sorted(self.kinds.items()))}), "
              f"{self.bytes / 1e6:.1f} MB, in {seconds:.0f} s")
        print("notices:", dict(self.notices.most_common()))
        print("findings:", dict(self.findings.most_common()))
        if not self.failures:
            print("no failures")
        for signature, count in self.failures.most_common():
            print(f"FAILED {count}x: {signature}")


def _kind_of(message: str) -> str:
    return re.sub(r"(?<![\w-])\d[\d,]*(\.\d+)?", "N", message.split(" (")[0])


if __name__ == "__main__":
    sys.exit(main())
