"""`python -m runtime.cli`: the `loom` command, for when its script is not on the PATH."""

from runtime.cli import main

main()
