"""The detector's parts: sniffers, evidence from UART signatures, the candidate plan, and the
state machine driven event by event (end-to-end runs are in test_detect_sim.py)."""

from __future__ import annotations

import json
import random

import pytest

from meter_protocols.detect import (
    TRANSITIONS,
    Apply,
    DetectConfig,
    Family,
    IfMode,
    IfType,
    LinkDetector,
    MeterStatus,
    Phase,
    ProtocolChoice,
    Redetect,
    StatusChange,
    Trigger,
    analyse,
    candidates,
    sniff,
)
from meter_protocols.detect.sniff import hdlc_fcs
from meter_protocols.errors import ProtocolError
from meter_protocols.line import LineSettings, Parity
from meter_protocols.readings import (
    FrameDecoded,
    MeterProtocol,
    MeterReading,
    ProblemKind,
    problem,
)
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from meter_protocols.uart import LineProbe, VirtualWire

TELEGRAM = VirtualMeter(get_profile("ensor-ers"), seed=1, start=1.75e9).push(1.75e9 + 1)
APDU = bytes.fromhex("e6e7000f40000000000101020309060100010700ff060000011802020f00161b")
SMARTY = bytes.fromhex("db08534147677001bd5482027a300005a8e3806ee6e639274c7bc57095f872b08dde"
                       "621fb74ee81e5ebe342c93d8e73781fb2a1eb8710074a54fc57aa7d1d99236c42e2e"
                       "c01a0324efc7f0")
KMP_ANSWER = bytes.fromhex("403F1003EA2F040000030E33B2320D")


def hdlc_frame(info: bytes) -> bytes:
    n = 2 + 4 + 2 + len(info) + 2
    head = bytes([0xA0 | (n >> 8), n & 0xFF, 0x41, 0x08, 0x83, 0x13])
    hcs = hdlc_fcs(head)
    body = head + bytes([hcs & 0xFF, hcs >> 8]) + info
    fcs = hdlc_fcs(body)
    return b"\x7e" + body + bytes([fcs & 0xFF, fcs >> 8]) + b"\x7e"


def mbus_frame(payload: bytes) -> bytes:
    body = bytes([0x53, 0xFF, 0x00, 0x01, 0x67]) + payload
    return bytes([0x68, len(body), len(body), 0x68]) + body + \
        bytes([sum(body) & 0xFF, 0x16])


HDLC = hdlc_frame(APDU)
MBUS = mbus_frame(APDU[3:])
NOISE = bytes(random.Random(5).randrange(256) for _ in range(20000))


def read_as(sender: str, reader: str, data: bytes, times: int = 1) -> tuple[bytes, bytes]:
    wire = VirtualWire(LineSettings.parse(sender), LineSettings.parse(reader))
    t = 0.0
    for _ in range(times):
        t = wire.send(data, t + 0.5)
    got = wire.read(t + 1.0)
    return got.data, got.flags


# --- sniffing ------------------------------------------------------------------------------


def test_sniffers_find_each_family() -> None:
    assert sniff(TELEGRAM).best() == (Family.DSMR, 1.0)
    assert sniff(b"xx" + HDLC * 2).best() == (Family.HDLC_DLMS, 2.0)
    mbus = sniff(MBUS)
    assert mbus.mbus == 1.0
    best = mbus.best()
    assert best is not None
    assert best[0] is Family.MBUS_DLMS
    assert sniff(SMARTY).best() == (Family.MBUS_DLMS, 1.0)  # a raw ciphered APDU
    assert sniff(b"\x00" + KMP_ANSWER).best() == (Family.KMP, 1.0)


def test_sniffers_count_half_seen_frames_but_do_not_decide_on_them() -> None:
    assert sniff(TELEGRAM[:200]).dsmr == 0.5
    assert sniff(HDLC[:20]).hdlc == 0.5
    assert sniff(TELEGRAM[:200]).best() is None


def test_sniffers_reject_random_bytes_and_broken_checksums() -> None:
    assert sniff(NOISE).best() is None
    broken = bytearray(HDLC)
    broken[-3] ^= 1
    assert sniff(bytes(broken)).hdlc == 0.0
    broken_mbus = bytearray(MBUS)
    broken_mbus[-2] ^= 1
    assert sniff(bytes(broken_mbus)).mbus == 0.0


# --- evidence from UART signatures -------------------------------------------------------------


def test_clean_bytes_of_a_protocol_name_the_family_and_keep_the_line() -> None:
    ev = analyse(HDLC, bytes(len(HDLC)), LineSettings.parse("2400 8E1"))
    assert ev.clean
    assert ev.family is Family.HDLC_DLMS
    assert ev.rate(LineSettings.parse("2400 8E1"), Family.HDLC_DLMS) > \
        ev.rate(LineSettings.parse("2400 8E1"), Family.MBUS_DLMS)


def test_bytes_without_flags_are_taken_as_clean() -> None:
    ev = analyse(TELEGRAM, None, LineSettings.parse("2400 8E1"))
    assert ev.clean
    assert ev.family is Family.DSMR


def test_7e1_read_as_8n1_points_at_7e1() -> None:
    data, flags = read_as("9600 7E1", "9600 8N1", TELEGRAM)
    ev = analyse(data, flags, LineSettings.parse("9600 8N1"))
    best = max(candidates(DetectConfig()), key=lambda c: ev.rate(c.line, c.family))
    assert str(best.line) == "9600 7E1"
    assert best.family is Family.DSMR
    assert "parity bit" in ev.text


def test_8e1_read_as_8n1_points_at_8e1_and_its_protocol() -> None:
    data, flags = read_as("2400 8E1", "2400 8N1", HDLC * 3)
    ev = analyse(data, flags, LineSettings.parse("2400 8N1"))
    best = max(candidates(DetectConfig()), key=lambda c: ev.rate(c.line, c.family))
    assert str(best.line) == "2400 8E1"
    assert best.family is Family.HDLC_DLMS
    assert "framing errors" in ev.text


def test_8n2_read_as_8e1_points_at_no_parity() -> None:
    data, flags = read_as("9600 8N2", "9600 8E1", bytes(range(256)))
    ev = analyse(data, flags, LineSettings.parse("9600 8E1"))
    assert ev.rate(LineSettings.parse("9600 8N2"), Family.KMP) > 50
    assert "parity errors" in ev.text


@pytest.mark.parametrize(("sender", "baud"), [("9600 7E1", 9600), ("2400 8E1", 2400)])
def test_breaks_at_115200_estimate_the_slower_rate(sender: str, baud: int) -> None:
    data, flags = read_as(sender, "115200 8N1", TELEGRAM[:300])
    seconds = 300 * LineSettings.parse(sender).frame_bits / baud
    ev = analyse(data, flags, LineSettings.parse("115200 8N1"),
                 chars_per_second=len(data) / seconds)
    assert ev.baud is not None
    assert baud / 1.5 < ev.baud < baud * 1.5
    best = max((c for c in candidates(DetectConfig()) if not c.pull),
               key=lambda c: ev.rate(c.line, c.family))
    assert best.line.baudrate == baud


def test_a_4x_slower_meter_is_estimated_from_its_low_runs() -> None:
    data, flags = read_as("2400 8N1", "9600 8N1", bytes(range(0, 256, 3)))
    ev = analyse(data, flags, LineSettings.parse("9600 8N1"))
    assert ev.baud == 2400


def test_a_line_that_rests_low_points_at_inversion() -> None:
    data, flags = read_as("2400 8E1 inverted", "2400 8E1", HDLC * 3)
    ev = analyse(data, flags, LineSettings.parse("2400 8E1"), bursts=1,
                 bursts_ending_in_break=1)
    assert ev.inverted is True
    assert ev.rate(LineSettings.parse("2400 8E1 inverted"), Family.MBUS_DLMS) > \
        ev.rate(LineSettings.parse("2400 8E1"), Family.MBUS_DLMS)


def test_garbage_from_a_faster_meter_says_not_slower() -> None:
    data, flags = read_as("115200 8N1", "2400 8E1", TELEGRAM, times=3)
    ev = analyse(data, flags, LineSettings.parse("2400 8E1"))
    assert not ev.clean
    assert ev.min_baud is not None
    assert ev.rate(LineSettings.parse("115200 8N1"), Family.DSMR) > \
        ev.rate(LineSettings.parse("1200 8N2"), Family.KMP)


# --- the plan -------------------------------------------------------------------------------


def lines_of(config: DetectConfig) -> set[str]:
    return {str(c.line) for c in candidates(config)}


def test_factory_plan_starts_at_mbus_and_covers_every_supported_line() -> None:
    plan = candidates(DetectConfig())
    assert str(plan[0].line) == "2400 8E1"
    assert {"115200 8N1", "9600 7E1", "2400 8E1", "2400 8N1", "9600 8N2",
            "115200 8N1 inverted"} <= lines_of(DetectConfig())
    assert all(c.listen <= 16.0 for c in plan)
    assert [c.pull for c in plan if c.family is Family.KMP] == [True] * 4


def test_interface_type_and_protocol_restrict_the_plan() -> None:
    assert lines_of(DetectConfig(if_type=IfType.P1)) == {
        "115200 8N1", "9600 7E1", "115200 8N1 inverted", "9600 7E1 inverted"}
    assert {c.family for c in candidates(DetectConfig(protocol=ProtocolChoice.KMP))} == \
        {Family.KMP}
    assert all(not c.pull for c in candidates(DetectConfig(if_mode=IfMode.PUSH)))
    assert all(c.pull for c in candidates(DetectConfig(if_mode=IfMode.PULL)))
    assert candidates(DetectConfig(if_type=IfType.MEP)) == []
    assert candidates(DetectConfig(protocol=ProtocolChoice.MEP)) == []
    mbus = candidates(DetectConfig(if_type=IfType.MBUS))
    assert {str(c.line.baudrate) for c in mbus} <= {"2400", "9600"}


def test_user_settings_go_first_when_auto_is_on() -> None:
    plan = candidates(DetectConfig(baudrate=9600, parity=Parity.NONE, stop_bits=2.0))
    assert str(plan[0].line) == "9600 8N2"


def test_fixed_settings_give_one_line() -> None:
    plan = candidates(DetectConfig(auto_baudrate=False, baudrate=9600, parity=Parity.EVEN,
                                   if_type=IfType.P1))
    assert {str(c.line) for c in plan} == {"9600 7E1"}
    plan = candidates(DetectConfig(auto_baudrate=False, baudrate=2400, parity=Parity.EVEN,
                                   rx_invert=True))
    assert {str(c.line) for c in plan} == {"2400 8E1 inverted"}
    assert {c.family for c in plan} == set(Family)


# --- the state machine, event by event --------------------------------------------------------


def reading() -> FrameDecoded:
    return FrameDecoded(MeterReading(MeterProtocol.DSMR, {}), 100)


def statuses(actions: list[object]) -> list[MeterStatus]:
    return [a.status for a in actions if isinstance(a, StatusChange)]


def test_every_phase_handles_a_settings_change() -> None:
    for phase in Phase:
        assert (phase, Trigger.CONFIG) in TRANSITIONS
    assert {p for p, _ in TRANSITIONS} == set(Phase)


def test_start_applies_the_first_candidate_and_says_recognition() -> None:
    det = LinkDetector()
    actions = det.start(0.0)
    applies = [a for a in actions if isinstance(a, Apply)]
    assert len(applies) == 1
    assert applies[0].line_changed
    assert applies[0].candidate == det.candidate
    assert statuses(actions) == [MeterStatus.RECOGNITION]
    with pytest.raises(ProtocolError):
        det.start(0.0)


def test_frame_locks_then_silence_is_no_data_then_frame_is_ok() -> None:
    det = LinkDetector()
    det.start(0.0)
    det.received(b"x" * 100, 1.0)
    assert statuses(det.decoded([reading()], 1.0)) == [MeterStatus.OK]
    assert det.phase is Phase.LOCKED
    for t in (2.0, 3.0):  # learn a 1 s interval
        det.received(b"x" * 100, t)
        det.decoded([reading()], t)
    assert det.tick(6.0) == []
    assert det.deadline == pytest.approx(8.0)
    assert statuses(det.tick(8.1)) == [MeterStatus.NO_DATA]
    assert det.phase is Phase.QUIET
    assert det.deadline is None
    det.received(b"x", 20.0)
    assert statuses(det.decoded([reading()], 20.0)) == [MeterStatus.OK]


def test_key_statuses_and_recovery_with_the_right_key() -> None:
    det = LinkDetector()
    det.start(0.0)
    det.received(b"x" * 100, 1.0)
    got = det.decoded([problem(ProblemKind.KEY_REQUIRED, "ciphered")], 1.0)
    assert statuses(got) == [MeterStatus.KEY_REQUIRED]
    assert det.locked
    got = det.decoded([problem(ProblemKind.DECRYPTION_FAILED, "tag")], 2.0)
    assert statuses(got) == [MeterStatus.ENCRYPTION_KEY]
    assert "the key is wrong" in det.message
    assert statuses(det.decoded([reading()], 3.0)) == [MeterStatus.OK]


def test_crc_failures_alone_do_not_lock() -> None:
    det = LinkDetector()
    det.start(0.0)
    det.received(b"x" * 100, 1.0)
    assert det.decoded([problem(ProblemKind.BAD_CRC, "crc")], 1.0) == []
    assert not det.locked
    assert det.diagnostics(1.0).totals.crc_failures == 1


def test_garbage_on_a_locked_line_redetects() -> None:
    det = LinkDetector()
    det.start(0.0)
    det.received(b"x", 1.0)
    det.decoded([reading()], 1.0)
    det.decoded([reading()], 2.0)
    actions: list[object] = []
    for t in (3.0, 4.0, 5.0, 6.0, 7.0, 8.0):
        det.received(b"\x00" * 50, t, b"\x05" * 50)
        actions += det.tick(t + 0.5)
    assert any(isinstance(a, Redetect) for a in actions)
    assert any(isinstance(a, Apply) for a in actions)
    assert statuses(actions) == [MeterStatus.RECOGNITION]
    assert det.phase is Phase.LISTEN


def test_clean_bytes_of_another_family_switch_the_decoder_with_replay() -> None:
    det = LinkDetector(DetectConfig(baudrate=115200))  # factory: listens at 2400 8E1 first
    det.start(0.0)
    det.received(TELEGRAM, 1.0, bytes(len(TELEGRAM)))
    actions = det.tick(1.5)
    applies = [a for a in actions if isinstance(a, Apply)]
    assert len(applies) == 1
    assert applies[0].candidate.family is Family.DSMR
    assert not applies[0].line_changed
    assert applies[0].replay == TELEGRAM


def test_unsupported_settings_are_reported() -> None:
    det = LinkDetector(DetectConfig(if_type=IfType.MEP))
    actions = det.start(0.0)
    assert not any(isinstance(a, Apply) for a in actions)
    assert statuses(actions) == [MeterStatus.NOT_CONNECTED]
    assert det.candidate is None
    det.received(b"abc", 1.0)
    assert statuses(det.tick(2.0)) == [MeterStatus.NOT_RECOGNIZED]
    assert "no supported protocol" in det.message
    back = det.reconfigure(DetectConfig(), 3.0)
    assert any(isinstance(a, Apply) for a in back)


def test_a_lock_survives_a_settings_change_that_still_allows_it() -> None:
    det = LinkDetector()
    det.start(0.0)
    det.decoded([reading()], 1.0)
    assert det.reconfigure(DetectConfig(baudrate=9600), 2.0) == []
    assert det.locked
    actions = det.reconfigure(DetectConfig(protocol=ProtocolChoice.KMP), 3.0)
    assert not det.locked
    assert [a.candidate.family for a in actions if isinstance(a, Apply)] == [Family.KMP]


def test_line_probe_reorders_the_search() -> None:
    det = LinkDetector()
    det.start(0.0)
    det.line_probe(LineProbe(idle_high=False, shortest_pulse=1 / 9600), 0.5)
    det.received(b"\x00" * 200, 1.0, b"\x05" * 200)
    actions = det.tick(1.5)
    applied = [a.candidate for a in actions if isinstance(a, Apply)]
    assert applied
    assert applied[0].line.baudrate == 9600
    assert applied[0].line.inverted


def test_diagnostics_are_json_and_say_what_was_tried() -> None:
    det = LinkDetector()
    det.start(0.0)
    det.received(b"\x00" * 300, 1.0, b"\x05" * 300)
    det.tick(1.5)
    diag = det.diagnostics(2.0)
    data = json.loads(json.dumps(diag.to_json()))
    assert data["status"] == "RECOGNITION"
    assert data["totals"]["breaks"] == 300
    assert data["tried"][0]["line"] == "2400 8E1"
    assert data["tried"][0]["breaks"] == 300
    assert "breaks" in data["tried"][0]["verdict"]
    assert data["message"]
    assert det.deadline is not None


def test_flags_must_match_the_data() -> None:
    det = LinkDetector()
    det.start(0.0)
    with pytest.raises(ProtocolError):
        det.received(b"abc", 1.0, b"\x00")
