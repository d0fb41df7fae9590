from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from dsmr_parser.parsers import TelegramParser

from meter_protocols.dsmr.encoder import fixed, hex_text, telegram, timestamp
from meter_protocols.errors import ProtocolError

ZURICH = ZoneInfo("Europe/Zurich")


def test_crc_is_what_dsmr_parser_validates() -> None:
    raw = telegram("/ESR5 test", ["1-0:1.8.1(000012.345*kWh)"])
    TelegramParser.validate_checksum(raw.decode())  # raises on a wrong CRC


def test_fixed_width_numbers() -> None:
    assert fixed(44.258, 6, 3) == "000044.258"
    assert fixed(0.037, 2, 3) == "00.037"
    assert fixed(234.34, 3, 2) == "234.34"
    with pytest.raises(ProtocolError):
        fixed(-1, 2, 3)


def test_timestamp_flags_summer_and_winter() -> None:
    assert timestamp(datetime(2025, 1, 22, 11, 54, 2, tzinfo=ZURICH)) == "250122115402W"
    assert timestamp(datetime(2025, 7, 1, 8, 0, 0, tzinfo=ZURICH)) == "250701080000S"


def test_hex_text() -> None:
    assert hex_text("1ESR0012084367") == "3145535230303132303834333637"


def test_header_must_start_with_slash() -> None:
    with pytest.raises(ProtocolError):
        telegram("ESR5", [])
