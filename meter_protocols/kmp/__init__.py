"""Kamstrup Meter Protocol (KMP), both ends, sans-I/O.

- codec: frames (start byte, address, CID, data, CRC-16/CCITT, stuffing, stop byte), ACK
- framer: a byte stream cut into frames, bounded, resynchronising
- values: unit codes and the sign-and-exponent number format of register values
- commands: GetType, GetSerialNo, GetRegister requests and answers
- registers: the electricity-meter register catalogue mapped to OBIS C.D.E
"""

from meter_protocols.kmp.codec import LINE, METER_ADDRESS
from meter_protocols.kmp.commands import MeterType
from meter_protocols.kmp.registers import OMNIPOWER_POLL, REGISTERS

__all__ = ["LINE", "METER_ADDRESS", "OMNIPOWER_POLL", "REGISTERS", "MeterType"]
