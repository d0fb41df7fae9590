"""The card's files without HTTP: whatever path a client makes up, what opens, lists or
deletes is inside the card (a property test), and the logger's append protocol."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.device.ports import SdPathRefused
from emulator.services.sd_files import CardFiles, split_path

NAMES = st.sampled_from(["..", ".", "", "SUB", "A.TXT", "LINK", "OUT", "%2e%2e", "\\..",
                         "x\x00", "C:", "secret.txt"])
PATHS = st.lists(NAMES, max_size=6).map("/".join) | st.text(max_size=30)


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("layout")
    card, outside = base / "card", base / "outside"
    (card / "SUB").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (card / "A.TXT").write_text("a")
    (card / "SUB" / "A.TXT").write_text("sub a")
    (card / "LINK").symlink_to(outside, target_is_directory=True)
    (card / "SUB" / "OUT").symlink_to(outside / "secret.txt")
    return card, outside


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=PATHS)
def test_whatever_opens_or_lists_is_inside_the_card(layout: tuple[Path, Path],
                                                     path: str) -> None:
    card, _outside = layout
    files = CardFiles(card)
    root = os.path.realpath(card)
    try:
        names = split_path(path)
    except SdPathRefused:
        return
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError), \
            files._open(names) as f:
        where = os.readlink(f"/proc/self/fd/{f.fileno()}")
        assert os.path.commonpath([root, where]) == root, where
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in files._listing(names):
            assert entry.name != "secret.txt"


@pytest.mark.parametrize("path", ["..", "../x", "a/../b", "/abs", "a//b", "./a", "a\\b",
                                  "a\x00b", "C:", "a/./b", "a*b"])
def test_refused_paths(path: str) -> None:
    with pytest.raises(SdPathRefused):
        split_path(path)


@pytest.mark.parametrize(("path", "names"), [("", ()), ("A.CSV", ("A.CSV",)),
                                             ("D/", ("D",)), ("D/E/F.TXT", ("D", "E", "F.TXT"))])
def test_accepted_paths(path: str, names: tuple[str, ...]) -> None:
    assert split_path(path) == names


def test_append_writes_the_header_once_and_grows_by_whole_rows(tmp_path: Path) -> None:
    files = CardFiles(tmp_path / "card")
    assert files.append_row("D.CSV", "H\n", "1\n") == 4
    assert files.append_row("D.CSV", "H\n", "2\n") == 6
    assert (tmp_path / "card" / "D.CSV").read_text() == "H\n1\n2\n"
    (tmp_path / "card" / "D.CSV").write_text("")  # emptied: a header again
    files.append_row("D.CSV", "H\n", "3\n")
    assert (tmp_path / "card" / "D.CSV").read_text() == "H\n3\n"


def test_a_failed_append_leaves_nothing(tmp_path: Path) -> None:
    files = CardFiles(tmp_path / "card")
    files.append_row("D.CSV", "H\n", "1\n")
    (tmp_path / "card" / "F.CSV").symlink_to("/dev/full")
    with pytest.raises(OSError, match="No space"):
        files.append_row("F.CSV", "H\n", "1\n")
    assert (tmp_path / "card" / "D.CSV").read_text() == "H\n1\n"
