"""The built-in rule pack: one module per rule in `<family>/<name>.py`, with the family's private helpers
beside its rules (`_name.py`). Installed as `linter.rules`; in a checkout `linter/__init__.py` maps that name
onto this folder."""
