"""The reading side's I/O: serial ports, pty and socket URLs, the in-process virtual wire,
the virtual meter servers, and the link supervisor."""
