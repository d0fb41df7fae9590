"""The one exception base of meter_protocols.

Decoders never raise on bad meter input: they return typed problems (readings.Problem).
Exceptions are for misuse by the caller (an encoder asked to encode nonsense, a malformed
OBIS string in a configuration).
"""


class ProtocolError(Exception):
    """Base of every exception meter_protocols raises."""


class ValueRangeError(ProtocolError, ValueError):
    """A value asked of a virtual meter that no meter register can hold (a forced value
    that is not a finite number in range). The message names the register; an API turns
    it into a 400."""
