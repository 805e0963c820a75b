"""The defaults of the config keys that have constants of their own (`linter.config`, `linter.config_model`)."""

DEFAULT_MAX_FILE_SIZE = 2_000_000
# Folders of build output: skipped where they sit in a package's folder (beside its package.json or tsconfig.json)
# or at the root, never deeper (`src/build/routes.js` is source). `output-dirs` replaces the list.
DEFAULT_OUTPUT_DIRS = ("build", "dist", "out", "coverage")
