"""Flags `new MarkerClient()`: a rule that exists only to test the engine.

## Why is this bad?
It is not; the engine tests need a rule whose behaviour never changes.

## Example
```js
const client = new MarkerClient();
```

## Use instead
```js
const client = new OtherClient();
```

## References
- tests/test_engine.py
"""

from linter.model import Level, Precision
from linter.rule import Rule


class MarkerClient(Rule):
    id = "testing/marker-client"
    name = "MarkerClient"
    level = Level.ERROR
    precision = Precision.HIGH
    needles = (b"MarkerClient",)
    query = '(new_expression constructor: (identifier) @name (#eq? @name "MarkerClient")) @hit'

    def check(self, match, file):
        yield file.report(self, match["hit"], "MarkerClient is created here.")
