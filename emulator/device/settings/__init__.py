"""One schema per settings endpoint, the registry of current values, and the atomic store."""
