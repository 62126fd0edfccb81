"""`python -m tui` runs the foryou command line."""

from tui.cli import main

main()
