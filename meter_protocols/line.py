"""Serial line settings (baud rate, data bits, parity, stop bits, polarity) as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from meter_protocols.errors import ProtocolError


class Parity(StrEnum):
    NONE = "none"
    ODD = "odd"
    EVEN = "even"

    @property
    def letter(self) -> str:
        return self.value[0].upper()


@dataclass(frozen=True, slots=True)
class LineSettings:
    """How bytes are put on a UART line."""

    baudrate: int = 115200
    data_bits: int = 8
    parity: Parity = Parity.NONE
    stop_bits: float = 1.0
    inverted: bool = False

    def __post_init__(self) -> None:
        if not 300 <= self.baudrate <= 921600:
            raise ProtocolError(f"baud rate out of range: {self.baudrate}")
        if self.data_bits not in (5, 6, 7, 8):
            raise ProtocolError(f"data bits must be 5..8, got {self.data_bits}")
        if self.stop_bits not in (1.0, 1.5, 2.0):
            raise ProtocolError(f"stop bits must be 1, 1.5 or 2, got {self.stop_bits}")

    @property
    def frame_bits(self) -> float:
        """Bits on the wire per character: start + data + parity + stop."""
        return 1 + self.data_bits + (0 if self.parity is Parity.NONE else 1) + self.stop_bits

    @property
    def bytes_per_second(self) -> float:
        return self.baudrate / self.frame_bits

    def __str__(self) -> str:
        stop = f"{self.stop_bits:g}"
        text = f"{self.baudrate} {self.data_bits}{self.parity.letter}{stop}"
        return text + " inverted" if self.inverted else text

    @classmethod
    def parse(cls, text: str) -> LineSettings:
        """Parse "115200 8N1", "9600 7E1", "2400 8E1 inverted"."""
        parts = text.split()
        try:
            baud = int(parts[0])
            frame = parts[1].upper()
            parity = {"N": Parity.NONE, "O": Parity.ODD, "E": Parity.EVEN}[frame[1]]
            settings = cls(baud, int(frame[0]), parity, float(frame[2:]),
                           inverted=parts[2:] == ["inverted"])
        except (IndexError, KeyError, ValueError) as exc:
            raise ProtocolError(f"not a line setting: {text!r}") from exc
        return settings


P1_DSMR4 = LineSettings(115200, 8, Parity.NONE, 1.0)
P1_DSMR2 = LineSettings(9600, 7, Parity.EVEN, 1.0)
MBUS_DLMS = LineSettings(2400, 8, Parity.EVEN, 1.0)
