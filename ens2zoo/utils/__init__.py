"""Small helpers with one job each, shared by every layer above them (no ens2zoo imports but errors)."""
