"""Issue 10, first run: what is installed is what runs. gurux-dlms is a test oracle, not a
runtime dependency; the data folder fixtures/ is not installed as a package (it would
shadow the PyPI library `fixtures`); scripts/test needs no network once installed."""

from __future__ import annotations

import ast
import tomllib

from tests.conftest import PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def names(requirements: list[str]) -> set[str]:
    return {r.split(">")[0].split("=")[0].split("[")[0].strip().lower() for r in requirements}


def test_gurux_is_a_test_dependency_only() -> None:
    assert "gurux-dlms" not in names(PYPROJECT["project"]["dependencies"])
    assert "gurux-dlms" in names(PYPROJECT["project"]["optional-dependencies"]["test"])


def test_fixtures_is_not_an_installed_package() -> None:
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    assert not any(pattern.startswith("fixtures") for pattern in include)
    assert "fixtures" not in PYPROJECT["tool"]["setuptools"].get("package-data", {})
    assert not (PROJECT_ROOT / "fixtures" / "__init__.py").exists()
    for folder in ("emulator", "meter_protocols", "webui", "tests", "bench"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    assert all(a.name.split(".")[0] != "fixtures" for a in node.names), path
                elif isinstance(node, ast.ImportFrom):
                    assert (node.module or "").split(".")[0] != "fixtures", path


def test_scripts_test_installs_only_when_pyproject_changed() -> None:
    script = (PROJECT_ROOT / "scripts" / "test").read_text()
    install = script.index("pip install --quiet -e")
    guard = script.index("cmp -s pyproject.toml")
    assert guard < install
