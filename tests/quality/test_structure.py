"""The layout rules of docs/architecture.md §3, read from the source with `ast` (nothing is imported):

- no module imports another module's `_private` name (`from x import _y`): shared code gets a public,
  well-named home;
- no application module is over 600 lines: a bigger one is split into modules named after subjects;
- the running apps never import `sampledata` (demo and benchmark data); only their management
  commands may;
- an import inside a function says why it is not at the top (`# cycle: a imports b`, `# the app
  registry is not ready at import time`, a heavy optional dependency), in a comment on its line or
  within the 3 lines above it (above a run of consecutive imports, one comment covers the run);
  imports under `if TYPE_CHECKING:` are exempt.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator
from pathlib import Path

from tests.project_apps import PROJECT_APPS

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", "node_modules", "migrations", ".git", "var", "__pycache__"}
RUNTIME_APPS = PROJECT_APPS
APPLICATION_PACKAGES = (*RUNTIME_APPS, "sampledata")
MAX_LINES = 600


def python_files(*tops: str) -> list[Path]:
    """Every .py file of the project (or under `tops`), outside virtualenvs, node_modules and migrations."""
    roots = [ROOT / top for top in tops] if tops else [ROOT]
    return sorted(
        path
        for root in roots
        for path in root.rglob("*.py")
        if not SKIPPED_DIRS & set(path.relative_to(ROOT).parts)
    )


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_module_imports_another_modules_private_name():
    """Between the project's own modules (a test resetting a library's internals is the library's business)."""
    files = python_files()
    first_party = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for path in files
    }
    offenders = []
    for path in files:
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in first_party:
                for alias in node.names:
                    if is_private(alias.name):
                        offenders.append(
                            f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module} import {alias.name}"
                        )
    assert not offenders, (
        "promote these to public names, or move the code to where it is used:\n" + "\n".join(offenders)
    )


def test_no_application_module_is_over_600_lines():
    offenders = []
    for path in python_files(*APPLICATION_PACKAGES):
        relative = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            offenders.append(f"{relative}: {lines} lines")
    assert not offenders, (
        f"split these into modules named after their subjects (≤ {MAX_LINES} lines):\n" + "\n".join(offenders)
    )


def imported_modules(tree: ast.Module) -> set[str]:
    """Every absolute module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_runtime_apps_do_not_import_sample_data():
    offenders = []
    for path in python_files(*RUNTIME_APPS):
        relative = path.relative_to(ROOT).as_posix()
        if "/management/commands/" in relative:
            continue  # `seed_demo`, the screenshot commands: development tools that load the demo data
        for module in sorted(imported_modules(parse(path))):
            if module == "sampledata" or module.startswith("sampledata."):
                offenders.append(f"{relative}: imports {module}")
    assert not offenders, "demo and benchmark data stay out of the running apps:\n" + "\n".join(offenders)


COMMENT_REACH = 3  # lines above an import (or above its run of imports) where its reason may stand


def comment_lines(source: str) -> set[int]:
    """The numbers of the lines that hold a comment (a `#` inside a string is not one)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {token.start[0] for token in tokens if token.type == tokenize.COMMENT}


def is_type_checking_guard(node: ast.AST) -> bool:
    """`if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def function_local_imports(tree: ast.Module) -> Iterator[tuple[ast.stmt, int]]:
    """Every import inside a function (not under `if TYPE_CHECKING:`), with the first line of the run
    of consecutive imports it belongs to: one comment above a run explains all of it."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.stmt, int]]:
        if isinstance(node, ast.If) and is_type_checking_guard(node):
            yield from walk_body(node.orelse, in_function)
            return
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            value = getattr(node, field, None)
            if isinstance(value, list):
                yield from walk_body(value, inside)

    def walk_body(body: list, in_function: bool) -> Iterator[tuple[ast.stmt, int]]:
        run_start = None
        for statement in body:
            if isinstance(statement, ast.Import | ast.ImportFrom):
                run_start = run_start or statement.lineno
                if in_function:
                    yield statement, run_start
            else:
                run_start = None
                if isinstance(statement, ast.AST):
                    yield from walk(statement, in_function)

    yield from walk(tree, False)


def test_function_local_imports_say_why():
    offenders = []
    for path in python_files(*APPLICATION_PACKAGES):
        source = path.read_text(encoding="utf-8")
        comments = comment_lines(source)
        for node, run_start in function_local_imports(ast.parse(source, filename=str(path))):
            reach = range(run_start - COMMENT_REACH, (node.end_lineno or node.lineno) + 1)
            if not comments.intersection(reach):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, (
        "move these imports to the top of the module, or say why they cannot be there "
        "(`# cycle: a imports b`, `# the app registry is not ready at import time`):\n" + "\n".join(offenders)
    )


def test_the_rules_see_the_whole_project():
    """The walks find the apps, tests and bench (a wrong ROOT or skip list would pass everything)."""
    found = {path.relative_to(ROOT).parts[0] for path in python_files()}
    assert {*APPLICATION_PACKAGES, "tests", "bench", "config"} <= found
    assert not any("migrations" in path.parts for path in python_files())
