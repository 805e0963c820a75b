"""Flags `markerNote()` calls at level note: a rule that exists only to test the engine.

## Why is this bad?
It is not.

## Example
```js
markerNote();
```

## Use instead
```js
otherNote();
```

## References
- tests/test_engine.py
"""

from linter.model import Level, Precision
from linter.rule import Rule


class MarkerNote(Rule):
    id = "testing/marker-note"
    name = "MarkerNote"
    level = Level.NOTE
    precision = Precision.HIGH
    query = '(call_expression function: (identifier) @name (#eq? @name "markerNote")) @hit'

    def check(self, match, file):
        yield file.report(self, match["hit"], "markerNote is called here.")
