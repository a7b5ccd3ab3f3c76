import sys

from kyodo.cli import main

sys.exit(main())
