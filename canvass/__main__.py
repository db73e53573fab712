"""``python -m canvass``: the command line."""

from canvass.cli import main

main()
