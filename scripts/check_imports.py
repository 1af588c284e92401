"""The import rules of docs/architecture.md, checked over the source (``ast``, nothing run).

1. No import cycle between the project's modules (every import counts, also one inside a
   function or under ``TYPE_CHECKING``: a cycle hidden is still a cycle).
2. A service never imports another service.
3. A service's ``core`` (and ``ports``) import only the standard library, pydantic and the
   pure part of ``shared_kernel`` (everything but ``shared_kernel.infra``), besides their own
   service's ``core`` and ``ports``.
4. The pure part of ``shared_kernel`` imports only the standard library, pydantic and itself.

Usage: ``python scripts/check_imports.py`` (part of ``make lint``); exit 1 and one line per
finding when a rule is broken, exit 0 otherwise.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PURE_THIRD_PARTY = frozenset({"pydantic", "pydantic_core", "annotated_types", "typing_extensions"})
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


@dataclass
class Project:
    modules: dict[str, Path] = field(default_factory=dict)
    service_of: dict[str, str] = field(default_factory=dict)  # top package -> service dir

    @classmethod
    def scan(cls, root: Path = ROOT) -> Project:
        project = cls()
        sources = [root / "shared" / "src", *sorted((root / "services").glob("*/src"))]
        for src in sources:
            for path in sorted(src.rglob("*.py")):
                parts = list(path.relative_to(src).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                if not parts:
                    continue
                name = ".".join(parts)
                project.modules[name] = path
                if src.parent.parent.name == "services":
                    project.service_of[parts[0]] = src.parent.name
        return project

    def imports(self, module: str) -> Iterator[tuple[str, int]]:
        """(imported name, line) for every import of ``module``, resolved where it is ours."""
        path = self.modules[module]
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield alias.name, node.lineno
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = package.split(".")
                    base_parts = base_parts[: len(base_parts) - node.level + 1]
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    yield (candidate if candidate in self.modules else base), node.lineno

    def resolve(self, name: str) -> str | None:
        """The project module ``name`` refers to (itself or its nearest parent), if ours."""
        while name:
            if name in self.modules:
                return name
            name = name.rpartition(".")[0]
        return None

    def graph(self) -> dict[str, set[str]]:
        edges: dict[str, set[str]] = {m: set() for m in self.modules}
        for module in self.modules:
            for name, _ in self.imports(module):
                target = self.resolve(name)
                if target is not None and target != module:
                    edges[module].add(target)
        return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def is_pure_shared(module: str) -> bool:
    return module.startswith("shared_kernel") and not module.startswith("shared_kernel.infra")


def layer_findings(project: Project) -> list[str]:
    findings: list[str] = []
    for module in sorted(project.modules):
        top = module.split(".")[0]
        parts = module.split(".")
        in_core = top in project.service_of and len(parts) > 1 and parts[1] in ("core", "ports")
        pure_shared = is_pure_shared(module)
        rel = project.modules[module].relative_to(ROOT)
        for name, line in project.imports(module):
            first = name.split(".")[0]
            where = f"{rel}:{line}"
            if first in project.service_of and top in project.service_of and first != top:
                findings.append(f"{where}: service {top} imports service {first} ({name})")
            if not (in_core or pure_shared):
                continue
            if first in STDLIB or first in PURE_THIRD_PARTY:
                continue
            if first == "shared_kernel":
                if not name.startswith("shared_kernel.infra") and name != "shared_kernel.infra":
                    continue
                findings.append(f"{where}: {module} is pure and imports {name}")
                continue
            own = in_core and first == top
            if own and (name == top or name.split(".")[1] in ("core", "ports")):
                continue
            findings.append(f"{where}: {module} is pure and imports {name}")
    return findings


def main() -> int:
    project = Project.scan()
    findings = layer_findings(project)
    for component in cycles(project.graph()):
        findings.append("import cycle: " + " ↔ ".join(component))
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} import rule(s) broken (scripts/check_imports.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
