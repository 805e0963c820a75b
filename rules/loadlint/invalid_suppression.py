"""A `loadlint-ignore` comment that is malformed: no reason, no rule, or an unknown rule id.

## Why is this bad?
A suppression silences a finding for everyone who reads the code later. Without a reason nobody can tell
whether the finding was a false positive or a risk someone accepted; with a misspelled rule id it silences
nothing while looking as if it did.

## Example
```js
// loadlint-ignore auth/secret-fallback
const secret = process.env.JWT_SECRET || 'dev-secret';
```

## Use instead
```js
// loadlint-ignore auth/secret-fallback -- local-only demo server, never deployed
const secret = process.env.JWT_SECRET || 'dev-secret';
```

## References
- `loadlint explain` for the rule ids; `loadlint rules` lists them.
"""

from linter.model import Level, Precision
from linter.rule import Rule


class InvalidSuppression(Rule):
    id = "loadlint/invalid-suppression"
    name = "InvalidSuppression"
    level = Level.WARNING
    precision = Precision.VERY_HIGH
    tags = ("maintainability",)
    frameworks = ()
