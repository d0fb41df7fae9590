"""Virtual meters of Austrian customer interfaces, sending as the real ones do.

Each is rebuilt from a real capture's wire (framing, segmentation, security byte, layout)
and the grid operator's published layout; values come from the load model, keys are made
up for the emulator and belong to no real meter.

- tinetz-ma309: M-Bus 2400 8E1, two long frames, glo-ciphering 0x21; {ln, value[, su]} x16.
- netznoe-t210d: M-Bus 2400 8E1, first frame L = 257 mod 256, 0x20; clock, ln/value/su
  triples, meter number.
- wienernetze-im350: optical/TTL HDLC 9600 8N1, 0x20, every second; name, clock, 8 values.
- netzburgenland-e450: HDLC on the M-Bus customer port (RJ12) 2400 8E1, 0x30, every 10 s;
  12 values, the clock in the notification header.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from meter_protocols.dlms import units
from meter_protocols.dlms.axdr import Tag
from meter_protocols.dlms.encoder import (
    CLOCK,
    LOGICAL_NAME,
    METER_ID,
    BodyStyle,
    FrameOptions,
    PushItem,
    PushLayout,
)
from meter_protocols.dlms.link import Framing
from meter_protocols.line import MBUS_DLMS, LineSettings
from meter_protocols.obis import Obis
from meter_protocols.readings import Interface, MeterIdentity, MeterProtocol
from meter_protocols.simulator.profile import MeterKeys, Profile

if TYPE_CHECKING:
    from meter_protocols.simulator.profiles_dlms import DlmsPushEncoder

TTL_9600: Final = LineSettings.parse("9600 8N1")


def _ln(text: str) -> Obis:
    return Obis.parse(text)


def _reg(code: str, tag: int, scaler: int, unit: int) -> PushItem:
    return PushItem(_ln(f"1-0:{code}"), 3, tag, code, scaler, unit)


def _regs(codes: tuple[str, ...], tag: int, scaler: int, unit: int) -> tuple[PushItem, ...]:
    return tuple(_reg(code, tag, scaler, unit) for code in codes)


_VOLTS = ("32.7.0", "52.7.0", "72.7.0")
_AMPS = ("31.7.0", "51.7.0", "71.7.0")
_CLOCK_ITEM = PushItem(_ln("0-0:1.0.0"), 8, Tag.OCTET_STRING, CLOCK)

# -- TINETZ / Salzburg Netz / Vorarlberg Netz: Kaifa MA309M ------------------------------
# The body of the real suite-1 APDU: a structure of 16 structures, the clock, meter id and
# logical device name as {ln, value}, then voltages, currents, powers and energies as
# {ln, value, scaler_unit}.
TINETZ_LAYOUT: Final = PushLayout(
    BodyStyle.OBIS_STRUCTURES,
    (
        _CLOCK_ITEM,
        PushItem(_ln("0-0:96.1.0"), 1, Tag.OCTET_STRING, METER_ID),
        PushItem(_ln("0-0:42.0.0"), 1, Tag.OCTET_STRING, LOGICAL_NAME),
        *_regs(_VOLTS, Tag.UINT16, -1, units.VOLTAGE),
        *_regs(_AMPS, Tag.UINT16, -2, units.CURRENT),
        *_regs(("1.7.0", "2.7.0"), Tag.UINT32, 0, units.ACTIVE_POWER),
        *_regs(("1.8.0", "2.8.0"), Tag.UINT32, 0, units.ACTIVE_ENERGY),
        *_regs(("3.8.0", "4.8.0"), Tag.UINT32, 0, units.REACTIVE_ENERGY),
    ),
    send_scaler_unit=True,
    root=Tag.STRUCTURE,
)
TINETZ_FRAMES: Final = FrameOptions(Framing.MBUS, mbus_segment_size=245,
                                    security_control=0x21)

# -- Netz NÖ: Sagemcom T210-D -----------------------------------------------------------
# The clock first and the meter number last without logical names, eleven registers as
# ln, value, scaler_unit between them; 0x20 (no tag); the first M-Bus frame carries 257
# bytes with L = 0x01.
NETZNOE_LAYOUT: Final = PushLayout(
    BodyStyle.FLAT,
    (
        PushItem(_ln("0-0:1.0.0"), 8, Tag.OCTET_STRING, CLOCK, bare=True),
        *_regs(("1.8.0", "2.8.0"), Tag.UINT32, 0, units.ACTIVE_ENERGY),
        *_regs(("1.7.0", "2.7.0"), Tag.UINT32, 0, units.ACTIVE_POWER),
        *_regs(_VOLTS, Tag.UINT16, -1, units.VOLTAGE),
        *_regs(_AMPS, Tag.UINT16, -2, units.CURRENT),
        _reg("13.7.0", Tag.INT16, -3, units.COUNT),
        PushItem(_ln("0-0:96.1.0"), 1, Tag.OCTET_STRING, METER_ID, bare=True),
    ),
    send_scaler_unit=True,
)
NETZNOE_FRAMES: Final = FrameOptions(Framing.MBUS, mbus_segment_size=252,
                                     mbus_length_quirk=True)

# -- Wiener Netze: Siemens IM350 ----------------------------------------------------------
# Optical customer interface: HDLC UI frames (destination 0xCF, four-byte source), LLC,
# glo-ciphering 0x20; the body is the logical device name, the clock and eight values.
_WN_VALUES = (*_regs(("1.8.0", "2.8.0"), Tag.UINT32, 0, units.ACTIVE_ENERGY),
              *_regs(("3.8.0", "4.8.0"), Tag.UINT32, 0, units.REACTIVE_ENERGY),
              *_regs(("1.7.0", "2.7.0"), Tag.UINT32, 0, units.ACTIVE_POWER),
              *_regs(("3.7.0", "4.7.0"), Tag.UINT32, 0, units.REACTIVE_POWER))
WIENERNETZE_LAYOUT: Final = PushLayout(
    BodyStyle.VALUES,
    (PushItem(_ln("0-0:42.0.0"), 1, Tag.OCTET_STRING, LOGICAL_NAME), _CLOCK_ITEM,
     *_WN_VALUES),
)
WIENERNETZE_FRAMES: Final = FrameOptions(Framing.HDLC, hdlc_dest=b"\xcf",
                                         hdlc_src=b"\x00\x02\x00\x23", hdlc_control=0x13)

# -- Netz Burgenland: Landis+Gyr E450 ----------------------------------------------------
# Voltages in V, currents in 0.01 A, powers in W, energies in Wh and varh, in that order;
# the clock only in the notification header.
BURGENLAND_LAYOUT: Final = PushLayout(
    BodyStyle.VALUES,
    (
        *_regs(_VOLTS, Tag.UINT16, 0, units.VOLTAGE),
        *_regs(_AMPS, Tag.UINT16, -2, units.CURRENT),
        *_regs(("1.7.0", "2.7.0"), Tag.UINT32, 0, units.ACTIVE_POWER),
        *_regs(("1.8.0", "2.8.0"), Tag.UINT32, 0, units.ACTIVE_ENERGY),
        *_regs(("3.8.0", "4.8.0"), Tag.UINT32, 0, units.REACTIVE_ENERGY),
    ),
)
BURGENLAND_FRAMES: Final = FrameOptions(Framing.HDLC, hdlc_dest=b"\xce\xff",
                                        hdlc_src=b"\x03", hdlc_control=0x13)

SPECS: Final[dict[str, tuple[PushLayout, FrameOptions]]] = {
    "tinetz-ma309": (TINETZ_LAYOUT, TINETZ_FRAMES),
    "netznoe-t210d": (NETZNOE_LAYOUT, NETZNOE_FRAMES),
    "wienernetze-im350": (WIENERNETZE_LAYOUT, WIENERNETZE_FRAMES),
    "netzburgenland-e450": (BURGENLAND_LAYOUT, BURGENLAND_FRAMES),
}


def _factory(profile: Profile) -> DlmsPushEncoder:
    from meter_protocols.simulator.profiles_dlms import encoder_for  # noqa: PLC0415

    return encoder_for(profile)


_CAPTURES = "shared/fixtures/real/dlms"

TINETZ_MA309 = Profile(
    name="tinetz-ma309",
    title="Kaifa MA309M of TINETZ, Salzburg Netz, Vorarlberg Netz: DLMS suite 1 (0x21) "
          "over M-Bus",
    source=f"wire: real Vorarlberg capture ({_CAPTURES}/esp_smartmeter_netznoe) and the "
           "suite-1 APDU of dlms_cosem_rs: two long frames, general-glo-ciphering with a "
           "3-byte length, SC 0x21; layout: that APDU's plaintext (the TINETZ customer "
           "interface)",
    protocol=MeterProtocol.DLMS,
    interface=Interface.MBUS,
    line=MBUS_DLMS,
    interval=5.0,
    identity=MeterIdentity(meter_id="1KFM0200701234", logical_name="KFM1200200701234",
                           vendor="Kaifa", prefix="KFM"),
    initial=MappingProxyType({"1.8.1": 3512000.0, "1.8.2": 1796437.0, "3.8.1": 13413.0,
                              "4.8.1": 566204.0}),
    keys=MeterKeys(encryption_key="5A3C19E0B27D4F8E61A0C3D5E7F90B24",
                   system_title="4B464D1020070123", invocation_counter=0x2BC00),
    encoder=_factory,
)

NETZNOE_T210D = Profile(
    name="netznoe-t210d",
    title="Sagemcom T210-D of Netz NÖ: DLMS over M-Bus, first frame's L = length mod 256",
    source=f"wire and layout: real Netz NÖ capture ({_CAPTURES}/esp_smartmeter_netznoe, "
           "Sagemcom record) and the Netz NÖ customer-interface document's layout: clock "
           "first, meter number last, SC 0x20",
    protocol=MeterProtocol.DLMS,
    interface=Interface.MBUS,
    line=MBUS_DLMS,
    interval=5.0,
    identity=MeterIdentity(meter_id="178210400123", vendor="Sagemcom", prefix="SAG"),
    initial=MappingProxyType({"1.8.1": 412000.0, "1.8.2": 215660.0}),
    keys=MeterKeys(encryption_key="C2A4E6081B3D5F7092B4D6F8A1C3E507",
                   system_title="5341475905ED0123", invocation_counter=0x1500),
    encoder=_factory,
)

WIENERNETZE_IM350 = Profile(
    name="wienernetze-im350",
    title="Siemens IM350 of Wiener Netze: compact DLMS push on the optical port",
    source="wire and layout: public Wiener Netze captures (HDLC UI, SC 0x20, body = "
           "logical device name, clock, A+ A- R+ R- P+ P- Q+ Q-), read with their keys; "
           "the operator's customer-interface description",
    protocol=MeterProtocol.DLMS,
    interface=Interface.TTL,
    line=TTL_9600,
    interval=1.0,
    identity=MeterIdentity(logical_name="SMS1030700012345", vendor="Siemens", prefix="SMS"),
    phases=3,
    initial=MappingProxyType({"1.8.1": 1465000.0, "3.8.1": 12000.0, "4.8.1": 552100.0}),
    keys=MeterKeys(encryption_key="8D2F6A1C4E9B03D7A5F1C8E2B6D40A93",
                   system_title="534D536775000123", invocation_counter=0x124E00),
    encoder=_factory,
)

NETZBURGENLAND_E450 = Profile(
    name="netzburgenland-e450",
    title="Landis+Gyr E450 of Netz Burgenland: compact DLMS push on the optical port",
    source="layout: the Netz Burgenland customer interface as open-source readers decode "
           "it (voltages, currents, powers, energies, the clock in the header); wire: "
           "Landis+Gyr HDLC UI frames (CE FF / 03) on the M-Bus customer port, about "
           "every 10 s (those readers also take it from the optical port at 9600 8N1)",
    protocol=MeterProtocol.DLMS,
    interface=Interface.MBUS,
    line=MBUS_DLMS,
    interval=10.0,
    identity=MeterIdentity(vendor="Landis+Gyr", prefix="LGZ"),
    initial=MappingProxyType({"1.8.1": 2210400.0, "1.8.2": 980200.0, "2.8.1": 1504100.0}),
    keys=MeterKeys(encryption_key="3E7A91C5D20B64F88F1A2C3B4D5E6F70",
                   authentication_key="D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF",
                   system_title="4C475A6772000123", invocation_counter=0x21ED00),
    encoder=_factory,
)

PROFILES: Final = (TINETZ_MA309, NETZNOE_T210D, WIENERNETZE_IM350, NETZBURGENLAND_E450)
