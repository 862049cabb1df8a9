import sys

from ens2zoo.cli import main

sys.exit(main())
