"""The 12-byte COSEM date-time (IEC 62056-6-2, 4.1.6.1), both directions.

Layout: year (2 bytes, 0xFFFF not specified), month, day of month, day of week (1 = Monday),
hour, minute, second, hundredths (0xFF not specified), deviation (signed 2 bytes, minutes,
0x8000 not specified), clock status (bit 7: daylight saving time active).

Sign of the deviation: meters in the field (Kaifa, Landis+Gyr, Iskra) write the minutes
to add to local time to get UTC, so Central European winter time is -60. We read and
write it that way.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

NOT_SPECIFIED_DEVIATION = -0x8000
DST_ACTIVE = 0x80
#: Month and day values that say "not specified" (0xFD, 0xFE: DST end/begin, last day).
_UNSET_DAY = frozenset((0xFF, 0xFD, 0xFE))


@functools.lru_cache(maxsize=64)
def _fixed(deviation: int) -> timezone:
    """The fixed zone of a deviation (minutes to add to local time for UTC); a meter sends
    one or two, so each push need not build its own."""
    return timezone(timedelta(minutes=-deviation))


@dataclass(frozen=True, slots=True)
class CosemDateTime:
    year: int | None
    month: int | None
    day: int | None
    hour: int | None
    minute: int | None
    second: int | None
    hundredths: int | None = None
    deviation: int | None = None  # minutes, UTC = local + deviation
    status: int | None = None
    weekday: int | None = None

    @classmethod
    def from_bytes(cls, raw: bytes) -> CosemDateTime | None:
        if len(raw) != 12:
            return None
        deviation = int.from_bytes(raw[9:11], "big", signed=True)
        year = int.from_bytes(raw[0:2], "big")
        month, day, weekday, hour, minute, second, hundredths = raw[2:9]
        status = raw[11]
        return cls(
            None if year == 0xFFFF else year,
            None if month in _UNSET_DAY else month,
            None if day in _UNSET_DAY else day,
            None if hour == 0xFF else hour,
            None if minute == 0xFF else minute,
            None if second == 0xFF else second,
            None if hundredths == 0xFF else hundredths,
            None if deviation == NOT_SPECIFIED_DEVIATION else deviation,
            None if status == 0xFF else status,
            None if weekday == 0xFF else weekday,
        )

    def to_datetime(self, zone: tzinfo) -> datetime | None:
        """An aware datetime in `zone`, or None when the value names no instant.

        Without a deviation the fields are taken as local time in `zone`; the clock
        status's DST bit picks the right hour in the autumn overlap.
        """
        if None in (self.year, self.month, self.day):
            return None
        micro = (self.hundredths or 0) * 10_000 if (self.hundredths or 0) < 100 else 0
        try:
            naive = datetime(self.year or 0, self.month or 0, self.day or 0,  # noqa: DTZ001
                             self.hour or 0, self.minute or 0, self.second or 0, micro)
        except ValueError:
            return None
        fold = 0 if self.status is None or self.status & DST_ACTIVE else 1
        try:
            if self.deviation is not None and -840 <= self.deviation <= 840:
                return naive.replace(tzinfo=_fixed(self.deviation)).astimezone(zone)
            moment = naive.replace(tzinfo=zone, fold=fold)
            moment.astimezone(UTC)  # an instant must exist in UTC too
        except OverflowError:
            return None  # year 1 or 9999 moved by its offset leaves the calendar
        return moment

    def to_bytes(self) -> bytes:
        def b(value: int | None) -> int:
            return 0xFF if value is None else value

        year = 0xFFFF if self.year is None else self.year
        deviation = NOT_SPECIFIED_DEVIATION if self.deviation is None else self.deviation
        return (year.to_bytes(2, "big")
                + bytes((b(self.month), b(self.day), b(self.weekday), b(self.hour),
                         b(self.minute), b(self.second), b(self.hundredths)))
                + deviation.to_bytes(2, "big", signed=True) + bytes((b(self.status),)))

    @classmethod
    def from_datetime(cls, moment: datetime, *, with_deviation: bool = True) -> CosemDateTime:
        """The meter's view of an aware local time."""
        offset = moment.utcoffset()
        dst = moment.dst()
        status = DST_ACTIVE if dst is not None and dst > timedelta(0) else 0
        deviation = None
        if with_deviation and offset is not None:
            deviation = -int(offset.total_seconds() // 60)
        return cls(moment.year, moment.month, moment.day, moment.hour, moment.minute,
                   moment.second, moment.microsecond // 10_000, deviation, status,
                   moment.isoweekday())


def parse(raw: bytes, zone: tzinfo) -> datetime | None:
    """12 bytes -> aware datetime, or None."""
    value = CosemDateTime.from_bytes(raw)
    return value.to_datetime(zone) if value is not None else None


def encode(moment: datetime, *, with_deviation: bool = True) -> bytes:
    return CosemDateTime.from_datetime(moment, with_deviation=with_deviation).to_bytes()


def iso_local(moment: datetime, zone: tzinfo) -> str:
    """How /api/v1/report/objects shows a date-time: ISO 8601 local time, no offset."""
    return moment.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")


__all__ = ["CosemDateTime", "encode", "iso_local", "parse"]
