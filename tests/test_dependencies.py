"""What the package imports, it declares: every module a file of datasette_secrets
imports (at the top or inside a function) is in the standard library, the
package itself, or a module of one of its own run-time requirements, so a plain
``pip install .`` brings it (never a test extra, nor a dependency of a
dependency that could drop it)."""

import ast
import sys
from importlib.metadata import packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import datasette_secrets

PACKAGE = Path(datasette_secrets.__file__).parent


def imported_modules(path):
    """The top-level names of the absolute imports in one file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


# Modules a file may import only inside a function (so a plain install imports
# them never), brought by an optional extra: {module: (extra, file)}.
OPTIONAL = {
    "boto3": ("aws", "datasette_secrets/provider_aws.py"),
    "botocore": ("aws", "datasette_secrets/provider_aws.py"),
}


def top_level_modules(path):
    """The top-level names imported at module level (outside any function)."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def extra_requirements(extra):
    """The distributions ``pip install '.[extra]'`` adds."""
    found = set()
    for text in requires("datasette-secrets") or []:
        requirement = Requirement(text)
        if requirement.marker is not None and requirement.marker.evaluate({"extra": extra}):
            found.add(canonicalize_name(requirement.name))
    return found


def run_time_requirements():
    """The distributions ``pip install .`` installs for the package itself (no extras)."""
    found = set()
    for text in requires("datasette-secrets") or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            found.add(canonicalize_name(requirement.name))
    return found


def test_every_import_is_the_standard_library_or_a_declared_requirement():
    declared = run_time_requirements()
    providers = packages_distributions()
    undeclared = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for module in imported_modules(path):
            if module in sys.stdlib_module_names or module == "datasette_secrets":
                continue
            if module in OPTIONAL and str(path.relative_to(PACKAGE.parent)) == OPTIONAL[module][1]:
                continue  # test_optional_imports checks these
            if not declared & {canonicalize_name(dist) for dist in providers.get(module, [])}:
                undeclared.setdefault(module, []).append(str(path.relative_to(PACKAGE.parent)))
    assert undeclared == {}


def test_the_readme_check_example_imports_what_datasette_brings():
    """The README's Test example imports httpx2, which Datasette depends on (httpx
    comes only with the test extras)."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    assert "import httpx2\n" in readme and "import httpx\n" not in readme
    assert "httpx2" in {canonicalize_name(Requirement(text).name) for text in requires("datasette") or []}


def test_optional_imports_come_with_their_extra_and_only_inside_functions():
    """boto3 (the aws_kms provider) comes with the ``aws`` extra, and is imported
    only when that provider is used: a plain install never needs it."""
    providers = packages_distributions()
    for module, (extra, file) in OPTIONAL.items():
        path = PACKAGE.parent / file
        assert module in imported_modules(path)
        assert module not in top_level_modules(path)
        assert extra_requirements(extra) & {canonicalize_name(dist) for dist in providers.get(module, [])}
