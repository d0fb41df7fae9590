"""Every virtual meter profile, by its stable name."""

from __future__ import annotations

from meter_protocols.errors import ProtocolError
from meter_protocols.simulator import (
    profiles_austria,
    profiles_dlms,
    profiles_dsmr,
    profiles_kmp,
)
from meter_protocols.simulator.profile import Profile

_FAMILIES = (profiles_dsmr.PROFILES, profiles_kmp.PROFILES, profiles_dlms.PROFILES,
             profiles_austria.PROFILES)

PROFILES: dict[str, Profile] = {p.name: p for family in _FAMILIES for p in family}

DEFAULT_PROFILE = "ensor-ers"


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ProtocolError(f"unknown meter profile {name!r} (known: {known})") from None
