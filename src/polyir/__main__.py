"""`python -m polyir ...`: the same as the `polyir` command."""
import sys

from polyir.cli import main

sys.exit(main())
