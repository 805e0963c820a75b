"""`loadlint server`, the Language Server for editors (`linter.server.lsp`, on pygls), and the warm project state
it lints from (`linter.server.session`). Installed with the `server` extra; the CLI imports none of it."""
