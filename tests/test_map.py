"""The README's map of the package is true of the code.

The map (README, "A map of the package") lists every module of the package in
layers; calls flow one way, down the list: a module imports only modules
listed after it (in a row below, or to its right in its own row). Page
modules (views) never import each other. Imports are read with ``ast``, at
the top of a module or inside a function alike.
"""

import ast
import re
from pathlib import Path

import datasette_secrets

PACKAGE = Path(datasette_secrets.__file__).parent
README = PACKAGE.parent / "README.md"
PAGES_LAYER = "pages"  # its second row lists the page modules


def map_rows():
    """[(layer, [module path, ...])] of the map's table, in order ("" continues a layer)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### A map of the package", 1)[1]
    rows = []
    for line in section.splitlines():
        if rows and not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or cells[0] in ("layer", "---"):
            continue
        rows.append((cells[0], re.findall(r"`([\w/]+\.py)`", cells[1])))
    return rows


def module_path(name):
    """'datasette_secrets.views.row' -> 'views/row.py'; the package -> '__init__.py'."""
    parts = name.split(".")[1:]
    if (PACKAGE.joinpath(*parts) / "__init__.py").exists():
        return "/".join(parts + ["__init__.py"])
    return "/".join(parts) + ".py"


def exists(name):
    """Whether ``name`` is a module of the package (not a function or class in one)."""
    return (PACKAGE / module_path(name)).exists()


def imports_of(path):
    """The package's modules that the file at ``path`` (relative to the package) imports."""
    package = ["datasette_secrets"] + path.split("/")[:-1]
    found = set()
    for node in ast.walk(ast.parse((PACKAGE / path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            # "from . import core" imports the module core; "from .core import ready", core
            targets = [
                f"{module}.{alias.name}" if exists(f"{module}.{alias.name}") else module for alias in node.names
            ]
        else:
            continue
        found.update(
            module_path(target) for target in targets
            if target.split(".")[0] == "datasette_secrets" and exists(target)
        )
    found.discard(path)
    return found


def test_the_map_lists_every_module_once():
    listed = [module for _, modules in map_rows() for module in modules]
    present = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py"))
    assert sorted(listed) == present


def test_every_import_goes_down_the_map():
    order = {module: n for n, module in enumerate(m for _, modules in map_rows() for m in modules)}
    upward = [
        f"{module} imports {target}"
        for module in order
        if (PACKAGE / module).exists()  # a listed module that is missing fails the test above
        for target in sorted(imports_of(module))
        if order.get(target, -1) <= order[module]
    ]
    assert upward == []


def test_pages_never_import_each_other():
    rows = map_rows()
    start = [layer for layer, _ in rows].index(PAGES_LAYER)
    pages = set(rows[start + 1][1])
    assert "views/row.py" in pages and "views/index.py" in pages
    sideways = [f"{page} imports {target}" for page in sorted(pages) for target in sorted(imports_of(page) & pages)]
    assert sideways == []
