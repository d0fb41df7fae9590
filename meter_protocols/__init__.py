"""The meter side of the wire: pure protocol code (no asyncio, no sockets, no I/O libraries)."""
