"""Reading inputs and writing results (no pickles)."""
