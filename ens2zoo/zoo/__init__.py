"""The zoo: registry, manifest, weights, plugins and the factory (create/load)."""
