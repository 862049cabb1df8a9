"""The ``ens2zoo`` command line, one module per command group."""
