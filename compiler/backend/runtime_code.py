"""The part of compiler/runtime/support.py a generated module needs, and nothing more.

    support_code(roots) -> str

`roots` are the names the generated code refers to (check_enum, Templates, josa...).
Every top-level statement of support.py that defines one of them, or that what is kept
refers to, is kept, with the comment lines just above it, in the file's order; imports
are kept when what is kept uses them. So a policy without a duration fact carries no
check_duration, and one whose replies use no `josa` carries no hangulpy code.
"""

from __future__ import annotations

import ast
import functools
from importlib import resources


@functools.lru_cache(maxsize=1)
def _pieces() -> tuple[tuple[frozenset[str], frozenset[str], str, str], ...]:
    """(names it defines, names it reads, its source with the comments above it, and
    "import", "def" or "value"), per top-level statement of support.py."""
    text = resources.files("compiler").joinpath("runtime/support.py").read_text(encoding="utf-8")
    lines = text.split("\n")
    tree = ast.parse(text)
    out = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring
        defines: set[str] = set()
        if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            defines.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            defines.update((a.asname or a.name).split(".")[0] for a in stmt.names)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            defines.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        reads = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        reads |= {n.value.id for n in ast.walk(stmt)
                  if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
        start = (stmt.decorator_list[0].lineno if getattr(stmt, "decorator_list", None) else stmt.lineno) - 1
        while start > 0 and lines[start - 1].lstrip().startswith("#"):
            start -= 1  # the comment that explains it travels with it
        source = "\n".join(lines[start:stmt.end_lineno])
        kind = ("import" if isinstance(stmt, (ast.Import, ast.ImportFrom))
                else "def" if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)) else "value")
        out.append((frozenset(defines), frozenset(reads - defines), source, kind))
    return tuple(out)


def support_code(roots: set[str]) -> str:
    pieces = _pieces()
    defined_by = {name: i for i, (defines, _, _, _) in enumerate(pieces) for name in defines}
    keep: set[int] = set()
    stack = [defined_by[name] for name in roots if name in defined_by]
    missing = sorted(name for name in roots if name not in defined_by)
    if missing:  # the generator asked for something support.py does not define: a policyc bug
        raise KeyError(f"runtime support lacks {missing}")
    while stack:
        i = stack.pop()
        if i in keep:
            continue
        keep.add(i)
        stack.extend(defined_by[name] for name in pieces[i][1] if name in defined_by)
    kept = [pieces[i] for i in sorted(keep)]
    out = "\n".join(p[2] for p in kept if p[3] == "import")
    previous = "import"
    for _, _, source, kind in kept:
        if kind == "import":
            continue
        # two blank lines around a function or class, one between two values
        out += ("\n\n" if kind == previous == "value" else "\n\n\n") + source
        previous = kind
    return out
