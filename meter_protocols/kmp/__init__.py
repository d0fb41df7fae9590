"""Kamstrup Meter Protocol (KMP), both ends, sans-I/O.

- codec: frames (start byte, address, CID, data, CRC-16/CCITT, stuffing, stop byte), ACK
- framer: a byte stream cut into frames, bounded, resynchronising
- values: unit codes and the sign-and-exponent number format of register values
- commands: GetType, GetSerialNo, GetRegister requests and answers
- registers: the electricity-meter register catalogue mapped to OBIS C.D.E
- poller: the gateway's state machine (what to ask, when, retries, timeouts, readings)
- responder: the meter's answers, for the virtual meter (simulator.profile.Responder)
"""

from meter_protocols.kmp.codec import LINE, METER_ADDRESS
from meter_protocols.kmp.commands import MeterType
from meter_protocols.kmp.poller import KmpPoller, PollerState
from meter_protocols.kmp.registers import OMNIPOWER_POLL, REGISTERS
from meter_protocols.kmp.responder import KmpMeterModel, KmpResponder

__all__ = [
    "LINE",
    "METER_ADDRESS",
    "OMNIPOWER_POLL",
    "REGISTERS",
    "KmpMeterModel",
    "KmpPoller",
    "KmpResponder",
    "MeterType",
    "PollerState",
]
