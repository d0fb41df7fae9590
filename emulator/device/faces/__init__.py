"""The faces of a report: one module per wire format, each a table over device.values."""
