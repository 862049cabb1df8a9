import sys

from ens2zoo.cli.main import main

sys.exit(main())
