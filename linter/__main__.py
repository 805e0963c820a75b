from linter.cli import run_command

run_command()
