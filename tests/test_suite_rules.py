"""The suite's own rules, checked so they stay true: no test module imports
another (what tests share lives in the helper modules and conftest.py), and
no test times itself by the wall clock (time.perf_counter): a busy machine
would fail it for no reason (secret_helpers.growth compares CPU times)."""

import ast
from pathlib import Path

TESTS = Path(__file__).parent
MODULES = sorted(TESTS.glob("test_*.py")) + sorted(TESTS.glob("*_helpers.py")) + [TESTS / "conftest.py"]


def imported(path):
    """The top-level names of every module ``path`` imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_test_module_imports_another():
    test_modules = {path.stem for path in TESTS.glob("test_*.py")}
    importing = {path.name: sorted(imported(path) & test_modules) for path in MODULES}
    assert {name: found for name, found in importing.items() if found} == {}


def test_no_test_reads_the_wall_clock_to_time_itself():
    timing = [path.name for path in MODULES if path.name != Path(__file__).name and "perf_counter" in path.read_text()]
    assert timing == []
