"""A `loadlint-ignore` comment that suppresses nothing.

## Why is this bad?
Once the code it excused is fixed or moved, a stale suppression stays behind and will silently hide the next
real finding on that line. Removing it keeps suppressions an honest list of accepted risks.

## Example
```js
// loadlint-ignore auth/secret-fallback -- read from the vault at boot
const port = process.env.PORT || 3000;
```

## Use instead
```js
const port = process.env.PORT || 3000;
```

## References
- ESLint's `--report-unused-disable-directives` does the same for `eslint-disable` comments.
"""

from linter.model import Level, Precision
from linter.rule import Rule


class UnusedSuppression(Rule):
    id = "loadlint/unused-suppression"
    name = "UnusedSuppression"
    level = Level.WARNING
    precision = Precision.VERY_HIGH
    tags = ("maintainability",)
    frameworks = ()
