"""Virtual DLMS/COSEM push meters.

Each profile names where its layout comes from. Keys, system title and first invocation
counter are on the profile (`Profile.keys`); a profile without an encryption key pushes in
clear, one with only an encryption key ciphers with security control 0x20 (no tag), one
with both keys with 0x30 (authenticated). `encoder_for(profile, ...)` builds the same
meter on another wire (tests use it to run every layout over every framing).

The demonstration keys below are made up for the emulator; they belong to no real meter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from meter_protocols.dlms import units
from meter_protocols.dlms.axdr import Tag
from meter_protocols.dlms.encoder import (
    CLOCK,
    LOGICAL_NAME,
    METER_ID,
    MODEL,
    TARIFF_TEXT,
    TEXT,
    BodyStyle,
    FrameOptions,
    PushFrameEncoder,
    PushItem,
    PushLayout,
    build_body,
)
from meter_protocols.dlms.link import Framing
from meter_protocols.dlms.security import DlmsKeys
from meter_protocols.errors import ProtocolError
from meter_protocols.line import MBUS_DLMS, P1_DSMR4
from meter_protocols.obis import Obis
from meter_protocols.readings import Interface, MeterIdentity, MeterProtocol
from meter_protocols.simulator.load import LoadParams
from meter_protocols.simulator.profile import MeterKeys, Profile
from meter_protocols.simulator.state import MeterSnapshot


def _ln(text: str) -> Obis:
    return Obis.parse(text)


def _registers(codes: Sequence[str], tag: int, scaler: int, unit: int, *, a_b: str = "1-0",
               decimals: int | None = None) -> tuple[PushItem, ...]:
    return tuple(PushItem(_ln(f"{a_b}:{code}"), 3, tag, code, scaler, unit, decimals)
                 for code in codes)


def _tariffs(*cs: int) -> tuple[str, ...]:
    return tuple(f"{c}.8.{t}" for c in cs for t in (0, 1, 2))


_IDENTITY_LN = PushItem(_ln("0-0:42.0.0"), 1, Tag.OCTET_STRING, LOGICAL_NAME)
_METER_ID = PushItem(_ln("0-0:96.1.0"), 1, Tag.OCTET_STRING, METER_ID)
_MODEL = PushItem(_ln("0-0:96.1.1"), 1, Tag.OCTET_STRING, MODEL)
_CLOCK = PushItem(_ln("0-0:1.0.0"), 8, Tag.OCTET_STRING, CLOCK)
_VOLTS = ("32.7.0", "52.7.0", "72.7.0")
_AMPS = ("31.7.0", "51.7.0", "71.7.0")

# -- Landis+Gyr E570 -----------------------------------------------------------------------
# Field set: the manual's "Example response for Landis+Gyr E" (section 3.1): A+ and A-
# power, A+/A- energy and the four-quadrant reactive energies, each total/T1/T2; id and
# model "636192"; the logical device name as in the newer documentation's LGZ examples.
# Values are raw, with no scaler_unit: the device needs scalers_set "lge570" for them
# (energy in kWh as float32, scaler 3; power in 0.1 W, scaler -1), as on the real one.
# The push names each value ({logical name, value} structures) rather than sending the
# push_object_list: a report every ~3 s (the manual's interval 3.055) must fit a 2400 baud
# line, and a 30-entry push_object_list alone would take 2.5 s of it.
LG_E570_LAYOUT = PushLayout(
    BodyStyle.OBIS_STRUCTURES,
    (
        _IDENTITY_LN, _METER_ID, _MODEL, _CLOCK,
        *_registers(("1.7.0", "2.7.0"), Tag.UINT32, -1, units.ACTIVE_POWER),
        *_registers(_tariffs(1, 2), Tag.FLOAT32, 3, units.ACTIVE_ENERGY, decimals=3),
        *_registers(_tariffs(5, 6, 7, 8), Tag.FLOAT32, 3, units.REACTIVE_ENERGY, decimals=3),
    ),
)
# Landis+Gyr push over the M-Bus customer interface: HDLC frames (UI, addresses as the
# E450/E570 send them) each carrying one general-block-transfer block.
LG_E570_FRAMES = FrameOptions(Framing.HDLC, hdlc_dest=b"\xce\xff", hdlc_src=b"\x03",
                              hdlc_control=0x13, gbt_block_size=255)
LG_E450_FRAMES = dataclasses.replace(LG_E570_FRAMES, gbt_block_size=120)

# -- Landis+Gyr E450 -----------------------------------------------------------------------
# Layout: the newer documentation's /api/v1/report/objects example (a real LGZ E450 push):
# push setup 0-8:25.9.0, logical device name, 1-1:x.8.0 energies as long64-unsigned Wh,
# tariff as the octet string "RATE1", powers/voltages/currents as long64, per-phase powers
# 1-4:x.7.0 as double-long-unsigned, the consumer message. No scalers in the frame: the
# device's built-in table (the E450 column) fits them.
_PHASE_POWERS = tuple(f"{base + k}.7.0" for k in (1, 2, 3, 4) for base in (20, 40, 60))
LG_E450_LAYOUT = PushLayout(
    BodyStyle.PUSH_OBJECT_LIST,
    (
        _IDENTITY_LN,
        *_registers(("1.8.0", "2.8.0"), Tag.UINT64, 0, units.ACTIVE_ENERGY, a_b="1-1"),
        *_registers(("3.8.0", "4.8.0"), Tag.UINT64, 0, units.REACTIVE_ENERGY, a_b="1-1"),
        PushItem(_ln("0-0:96.14.0"), 1, Tag.OCTET_STRING, TARIFF_TEXT, width=8),
        *_registers(("1.7.0", "2.7.0"), Tag.INT64, 0, units.ACTIVE_POWER),
        *_registers(_VOLTS, Tag.INT64, 0, units.VOLTAGE),
        *_registers(_AMPS, Tag.INT64, -2, units.CURRENT),
        *_registers(_PHASE_POWERS[:6], Tag.UINT32, 0, units.ACTIVE_POWER, a_b="1-4"),
        *_registers(_PHASE_POWERS[6:], Tag.UINT32, 0, units.REACTIVE_POWER, a_b="1-4"),
        PushItem(_ln("0-0:96.13.0"), 1, Tag.OCTET_STRING, TEXT, text="Consumer Message Text"),
    ),
    push_setup=_ln("0-8:25.9.0"),
)

# -- Kaifa MA309 (Austria) ---------------------------------------------------------------
# Wire: DLMS transport over M-Bus long frames, 68 L L 68 53 FF CI 01 67, general-glo-
# ciphering with security control 0x20 (encryption, no tag), as Austrian network operators
# configure it. Body: one flat structure of logical name, value, scaler_unit triples after
# the clock, the register set Austrian customer interfaces publish.
KAIFA_MA309_LAYOUT = PushLayout(
    BodyStyle.FLAT,
    (
        _CLOCK, _IDENTITY_LN, _METER_ID,
        *_registers(_VOLTS, Tag.UINT16, -1, units.VOLTAGE),
        *_registers(_AMPS, Tag.UINT16, -2, units.CURRENT),
        *_registers(("1.7.0", "2.7.0"), Tag.UINT32, 0, units.ACTIVE_POWER),
        *_registers(("1.8.0", "2.8.0"), Tag.UINT32, 0, units.ACTIVE_ENERGY),
        *_registers(("3.8.0", "4.8.0"), Tag.UINT32, 0, units.REACTIVE_ENERGY),
        *_registers(("13.7.0",), Tag.INT16, -3, units.COUNT),
    ),
    send_scaler_unit=True,
)
KAIFA_FRAMES = FrameOptions(Framing.MBUS, mbus_segment_size=228)

# -- Iskra AM550 -----------------------------------------------------------------------------
# Wire: HDLC with segmentation (frame format 0xA8 ... 0xA0, addresses as the AM550 sends
# them), general-glo-ciphering with authentication and encryption (0x30). Body: an array
# of {logical name, value, scaler_unit} structures (class-3 registers describing
# themselves), energies, powers, voltages, currents, frequency and power factor.
ISKRA_AM550_LAYOUT = PushLayout(
    BodyStyle.OBIS_STRUCTURES,
    (
        _CLOCK, _IDENTITY_LN, _METER_ID,
        *_registers(("1.8.0", "2.8.0"), Tag.UINT32, 0, units.ACTIVE_ENERGY),
        *_registers(("3.8.0", "4.8.0"), Tag.UINT32, 0, units.REACTIVE_ENERGY),
        *_registers(("1.7.0", "2.7.0"), Tag.UINT32, 0, units.ACTIVE_POWER),
        *_registers(("3.7.0", "4.7.0"), Tag.UINT32, 0, units.REACTIVE_POWER),
        *_registers(_VOLTS, Tag.UINT16, -1, units.VOLTAGE),
        *_registers(_AMPS, Tag.UINT16, -2, units.CURRENT),
        *_registers(("14.7.0",), Tag.UINT16, -2, units.FREQUENCY),
        *_registers(("13.7.0",), Tag.INT16, -3, units.COUNT),
    ),
    send_scaler_unit=True,
)
ISKRA_FRAMES = FrameOptions(Framing.HDLC, hdlc_dest=b"\xcf", hdlc_src=b"\x02\x23",
                            hdlc_control=0x03, hdlc_max_info=120)

SPECS: dict[str, tuple[PushLayout, FrameOptions]] = {
    "lg-e570": (LG_E570_LAYOUT, LG_E570_FRAMES),
    "lg-e450": (LG_E450_LAYOUT, LG_E450_FRAMES),
    "kaifa-ma309": (KAIFA_MA309_LAYOUT, KAIFA_FRAMES),
    "iskra-am550": (ISKRA_AM550_LAYOUT, ISKRA_FRAMES),
}


def security_control(keys: MeterKeys | None) -> int:
    if keys is None or not keys.encryption_key:
        return 0
    return 0x30 if keys.authentication_key else 0x20


class DlmsPushEncoder:
    """A profile's push meter: its snapshot in, its frame out."""

    def __init__(self, profile: Profile, layout: PushLayout, options: FrameOptions) -> None:
        self.profile = profile
        self.layout = layout
        keys = profile.keys
        sc = options.security_control or security_control(keys)
        self.frames = PushFrameEncoder(
            dataclasses.replace(options, security_control=sc),
            keys=DlmsKeys.from_hex(keys.encryption_key, keys.authentication_key) if keys
            else None,
            system_title=bytes.fromhex(keys.system_title) if keys and keys.system_title
            else b"",
            invocation_counter=keys.invocation_counter if keys else 1,
        )

    def rekey(self, encryption_key: str, authentication_key: str) -> None:
        """The meter's keys change (a grid operator re-keys it); the invocation counter and
        the security suite go on. Raises ProtocolError for a key that is not 32 hex digits."""
        self.frames.keys = DlmsKeys.from_hex(encryption_key, authentication_key)

    def encode(self, snapshot: MeterSnapshot) -> bytes:
        body = build_body(self.layout, snapshot.values, self.profile.identity,
                          snapshot.meter_time, snapshot.tariff)
        return self.frames.encode(body, snapshot.meter_time)


def encoder_for(profile: Profile, **options: Any) -> DlmsPushEncoder:
    """The profile's meter with some frame options changed (framing, segmentation...)."""
    from meter_protocols.simulator.profiles_austria import SPECS as AUSTRIA  # noqa: PLC0415

    try:
        layout, frames = {**SPECS, **AUSTRIA}[profile.name]
    except KeyError:
        raise ProtocolError(f"{profile.name} is not a DLMS profile") from None
    return DlmsPushEncoder(profile, layout, dataclasses.replace(frames, **options))


def _factory(profile: Profile) -> DlmsPushEncoder:
    return encoder_for(profile)


_INITIAL_4Q = MappingProxyType({
    "1.8.1": 33388.0, "1.8.2": 13863.0, "2.8.1": 7868.0, "2.8.2": 1097.0,
    "5.8.1": 31700.0, "5.8.2": 2013.0, "6.8.1": 2247.0, "7.8.1": 2727.0, "7.8.2": 828.0,
    "8.8.1": 4852.0, "8.8.2": 25710.0,
})

LG_E570 = Profile(
    name="lg-e570",
    title="Landis+Gyr E570, DLMS push over M-Bus (the manual's Landis+Gyr example)",
    source="field set and identity: whatwatt Go manual v2.0 section 3.1 'Example response "
           "for Landis+Gyr E' and the newer docs' LGZ examples; scalers: "
           "scalers-configuration.md E570 column; framing: IEC 62056-46 HDLC with "
           "IEC 62056-5-3 general block transfer",
    protocol=MeterProtocol.DLMS,
    interface=Interface.MBUS,
    line=MBUS_DLMS,
    interval=3.0,
    identity=MeterIdentity(meter_id="636192", logical_name="LGZ1030662444349",
                           model="636192", vendor="Landis+Gyr", prefix="LGZ"),
    phases=3,
    load=LoadParams(pv_peak_w=4000.0, pv_phases=3),
    initial=_INITIAL_4Q,
    encoder=_factory,
    notes="Sends raw values without scalers: the device needs scalers_set lge570 (or a "
          "custom set) for correct kW/kWh, as a real one does; the virtual meter comes "
          "with lge570 entered.",
    installer=MappingProxyType({"scalers_set": "lge570"}),
)

LG_E450 = Profile(
    name="lg-e450",
    title="Landis+Gyr E450, DLMS push over M-Bus with general block transfer",
    source="layout and identity: whatwatt docs /api/v1/report/objects example (LGZ E450 "
           "push list) and polling.md LGZ example; scalers: scalers-configuration.md E450 "
           "column; framing: IEC 62056-46 HDLC, IEC 62056-5-3 general block transfer",
    protocol=MeterProtocol.DLMS,
    interface=Interface.MBUS,
    line=MBUS_DLMS,
    interval=10.0,
    identity=MeterIdentity(logical_name="LGZ1030784855204", vendor="Landis+Gyr",
                           prefix="LGZ"),
    phases=3,
    initial=MappingProxyType({"1.8.1": 50133.0, "1.8.2": 25000.0, "2.8.1": 25414.0,
                              "3.8.1": 82328.0, "4.8.1": 19481.0}),
    encoder=_factory,
)

KAIFA_MA309 = Profile(
    name="kaifa-ma309",
    title="Kaifa MA309M, encrypted DLMS push over M-Bus long frames (Austria)",
    source="wire: EN 13757-2 long frames with the DLMS transport header 53 FF CI 01 67 "
           "(fixtures INDEX note on Austrian/Polish meters), general-glo-ciphering SC 0x20; "
           "register set of Austrian customer interfaces",
    protocol=MeterProtocol.DLMS,
    interface=Interface.MBUS,
    line=MBUS_DLMS,
    interval=5.0,
    identity=MeterIdentity(meter_id="1KFM0200123456", logical_name="KFM1200200123456",
                           vendor="Kaifa", prefix="KFM"),
    phases=3,
    initial=MappingProxyType({"1.8.1": 2841230.0, "1.8.2": 1530117.0, "3.8.1": 48211.0,
                              "4.8.1": 611009.0}),
    keys=MeterKeys(encryption_key="36C66639E48A8CA4D6BC8B282A793BBB",
                   system_title="4B464D1020304050", invocation_counter=1),
    encoder=_factory,
)

ISKRA_AM550 = Profile(
    name="iskra-am550",
    title="Iskraemeco AM550, encrypted DLMS push over HDLC with segmentation",
    source="wire: IEC 62056-46 HDLC segmentation (0xA8/0xA0), general-glo-ciphering "
           "SC 0x30; body: class-3 registers with their scaler_unit (IEC 62056-6-2)",
    protocol=MeterProtocol.DLMS,
    interface=Interface.P1,
    line=P1_DSMR4,
    interval=5.0,
    identity=MeterIdentity(meter_id="95023155", logical_name="ISK1030775213859",
                           vendor="Iskraemeco", prefix="ISK"),
    phases=3,
    initial=MappingProxyType({"1.8.1": 1204455.0, "1.8.2": 987001.0, "2.8.1": 1520.0,
                              "3.8.1": 77010.0, "4.8.1": 301244.0}),
    keys=MeterKeys(encryption_key="9E5F1B0D3C7A24E68B1F0C9D2A4E6B13",
                   authentication_key="D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF",
                   system_title="49534B6745012345", invocation_counter=1000),
    encoder=_factory,
)

PROFILES = (LG_E570, LG_E450, KAIFA_MA309, ISKRA_AM550)
