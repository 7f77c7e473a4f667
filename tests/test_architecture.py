"""The import rules of docs/architecture.md, checked on the source: no cycles, layers point down.

Every module under ``src/consentgate`` is parsed (never imported) and each of its imports becomes an
edge of a module graph. What counts as an import:

* ``import x`` and ``from x import y`` anywhere in the file: at module level, and inside functions,
  methods and ``try`` blocks (lazy imports load the module just the same, only later);
* a module named in a string that is then imported: the argument of ``importlib.import_module``,
  ``__import__`` and ``importlib.resources.files``, and any string constant that is exactly a
  consentgate module (``"consentgate.server.app"``, or ``"consentgate.server.app:create_app"`` as a
  factory reference), which is how lazy registries name what they load; an f-string whose fixed
  start names a package (``f"consentgate.pipeline.engines.{name}"``) stands for every module in it.
  Logger names (the argument of ``logging.getLogger``) look the same and import nothing: left out.
* ``from a import b`` where ``a.b`` is a module is an edge to ``a.b``; otherwise to ``a``.
* for cycles, importing ``a.b.c`` is also an edge to the packages ``a`` and ``a.b`` whose
  ``__init__`` runs first, where that ``__init__`` imports one of our modules as it runs (not one
  that resolves its names lazily): ``store.requests`` importing ``requests.models`` ran
  ``requests/__init__``, which imported the desk, which imports ``store.requests``.

Imports under ``if TYPE_CHECKING:`` never run, yet they are design dependencies as real as the others
(mypy follows them; two of the three cycles issue 18 names are made of them): they count in the cycle
and layer checks, and a printed cycle marks them ``(type-checking)``. They are left out only of what
``import consentgate.decide`` loads, which is about run time.

The known cycles and exceptions below are for debts (issue 18 paid the last ones; the lists are
kept empty for a debt a future change must take on knowingly): each entry must still be true, so a
list cannot go stale silently — delete an entry when the test says it is gone.
"""

from __future__ import annotations

import ast
import functools
import itertools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = "consentgate"
ARCHITECTURE_DOC = ROOT / "docs" / "architecture.md"


@dataclass(frozen=True)
class Layer:
    name: str
    members: tuple[str, ...]  # packages or modules, relative to consentgate ("" is the root package)
    may_import: tuple[str, ...]  # other layers; every layer may import itself


# The one table of docs/architecture.md (a test below checks that the page shows exactly this). A
# module belongs to the layer of its longest listed prefix: ``ledger.events`` is core, the rest of
# ``ledger`` storage (the value types a store returns sit below the stores).
LAYERS = (
    Layer(
        "core",
        ("_defaults", "errors", "policy", "decide", "ledger.events", "requests.models", "settings"),
        (),
    ),
    Layer("storage", ("ledger", "store"), ("core",)),
    Layer("auth", ("auth",), ("core", "storage")),
    Layer(
        "domain",
        ("service", "deciding", "stamping", "pipeline", "requests", "classify", "scan", "web", "reports"),
        ("core", "storage", "auth"),
    ),
    Layer("http", ("server",), ("core", "storage", "auth", "domain")),
    Layer("integrations", ("integrations",), ("core", "storage", "auth", "domain")),
    Layer("entry", ("cli", "client"), ("core", "storage", "auth", "domain", "http", "integrations")),
    Layer("public", ("",), ("core", "storage", "auth", "domain", "http", "integrations", "entry")),
)

# Third-party libraries that belong to one place: nothing else may import them.
LIBRARY_OWNERS: dict[str, tuple[str, ...]] = {
    "sqlalchemy": ("ledger", "store"),
    "alembic": ("ledger", "store"),
    "fastapi": ("server",),
    "starlette": ("server",),
    "uvicorn": ("server", "cli"),
    "typer": ("cli",),
    "rich": ("cli",),
    "httpx": ("client", "scan"),
}

# What ``decide.py`` itself may import: the policy and event models, the error tree, and standard
# modules that compute (no files, sockets, processes, clocks or randomness).
DECIDE_MAY_IMPORT = frozenset(
    {
        "consentgate.errors",
        "consentgate.ledger.events",
        "consentgate.policy.models",
        "__future__",
        "bisect",
        "collections.abc",
        "dataclasses",
        "datetime",
        "enum",
        "functools",
        "gc",
        "itertools",
        "math",
        "operator",
        "typing",
    }
)
# Libraries that do I/O (databases, network, processes, data engines): ``import consentgate.decide``
# must load none of them, through any module it loads on the way (package ``__init__``s included).
IO_LIBRARIES = frozenset(
    {
        "sqlalchemy", "alembic", "psycopg", "sqlite3", "duckdb", "httpx", "fastapi", "starlette",
        "uvicorn", "socket", "subprocess", "urllib", "http", "playwright", "pyarrow", "polars",
        "pandas", "pyspark", "typer", "rich",
    }
)  # fmt: skip

# I/O libraries that ``import consentgate.decide`` is known to load (none).
KNOWN_DECIDE_LOADS: frozenset[str] = frozenset()


# -- the graph -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a consentgate module, or the top-level name of another library
    line: int
    type_checking: bool  # under ``if TYPE_CHECKING:``: never runs
    lazy: bool  # inside a function, or a module named in a string: runs when called, not on import


@dataclass(frozen=True)
class Graph:
    modules: dict[str, Path]
    imports: list[Import]

    @classmethod
    def read(cls, src: Path) -> Graph:
        """The graph of the package under ``src`` (a folder holding ``consentgate/``), from its source."""
        modules = {}
        for path in sorted((src / PACKAGE).rglob("*.py")):
            parts = path.relative_to(src).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
        imports = [imp for module, path in modules.items() for imp in _imports_of(module, path, modules)]
        return cls(modules, imports)

    def edges(self) -> dict[str, set[str]]:
        graph: dict[str, set[str]] = {m: set() for m in self.modules}
        for imp in self.imports:
            if imp.target in self.modules:
                graph[imp.importer].add(imp.target)
                graph[imp.importer].update(self.packages_run(imp.importer, imp.target))
        return graph

    def packages_run(self, importer: str, target: str) -> set[str]:
        """The packages whose ``__init__`` importing ``target`` runs first (``a.b.c`` runs ``a`` and
        ``a.b``) and which import something of ours as they run. Left out: the importer's own
        packages (loaded before it runs) and packages that resolve their names lazily, as the root
        does — running their ``__init__`` loads none of the modules they name."""
        parts = target.split(".")
        parents = {".".join(parts[:n]) for n in range(1, len(parts))}
        return {
            p
            for p in parents
            if p in self.eager_packages and p != importer and not importer.startswith(p + ".")
        }

    @functools.cached_property
    def eager_packages(self) -> frozenset[str]:
        """Packages whose ``__init__`` imports one of our modules when it runs."""
        return frozenset(
            imp.importer
            for imp in self.imports
            if self.modules[imp.importer].name == "__init__.py"
            and imp.target in self.modules
            and not imp.lazy
            and not imp.type_checking
        )


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _named_modules(text: str, modules: dict[str, Path], *, prefix: bool) -> list[str]:
    """Consentgate modules a string names: exactly (``a.b`` or ``a.b:attr``), or all below a prefix."""
    if prefix:
        start = text.rstrip(".")
        return [m for m in modules if m.startswith(start + ".")] if text.endswith(".") else []
    name = text.split(":", 1)[0]
    return [name] if name in modules and re.fullmatch(r"[\w.]+(:\w+)?", text) else []


def _walk(node: ast.AST, type_checking: bool, lazy: bool) -> Iterator[tuple[ast.AST, bool, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for inner in child.body:
                yield inner, True, lazy
                yield from _walk(inner, True, lazy)
            for inner in child.orelse:
                yield inner, type_checking, lazy
                yield from _walk(inner, type_checking, lazy)
            continue
        yield child, type_checking, lazy
        in_function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from _walk(child, type_checking, lazy or in_function)


def _imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    logger_args: set[int] = set()
    found: list[Import] = []

    def add(target: str, node: ast.AST, tc: bool, lazy: bool) -> None:
        if not target.startswith(PACKAGE + ".") and target != PACKAGE:
            target = target.split(".")[0]
        if target != module:
            found.append(Import(module, target, getattr(node, "lineno", 0), tc, lazy))

    for node, tc, in_function in _walk(tree, False, False):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node, tc, in_function)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            if source == "__future__":
                continue
            for alias in node.names:
                full = f"{source}.{alias.name}"
                add(full if full in modules else source, node, tc, in_function)
        elif isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if _called(node) == "getLogger":
                logger_args.add(id(first))
            elif _called(node) in ("import_module", "__import__", "files") and isinstance(
                first, ast.JoinedStr
            ):
                head = first.values[0] if first.values else None
                if isinstance(head, ast.Constant) and isinstance(head.value, str):
                    for target in _named_modules(head.value, modules, prefix=True):
                        add(target, node, tc, True)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in logger_args:
            for target in _named_modules(node.value, modules, prefix=False):
                # A module's own packages are loaded before it runs: naming one (``files(...)`` of
                # its data) imports nothing new.
                if not module.startswith(target + "."):
                    add(target, node, tc, True)
    return found


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (deep import chains would overflow a recursive one)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return components


def _a_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """The shortest cycle through the component's first module, as a path that returns to its start."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & component):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"no cycle in {component}")


def _show(graph: Graph, path: list[str]) -> str:
    """A cycle as ``a -> b -> a``, each step marked with how it imports: lazily, or for types only."""
    shown = [path[0]]
    for importer, target in itertools.pairwise(path):
        kinds = [imp for imp in graph.imports if (imp.importer, imp.target) == (importer, target)]
        through = [
            imp for imp in graph.imports if imp.importer == importer and imp.target.startswith(target + ".")
        ]
        kinds = kinds or through  # ``target`` is the package of a module it imports
        mark = (
            ""
            if any(not i.lazy and not i.type_checking for i in kinds)
            else "(lazy)"
            if any(not i.type_checking for i in kinds)
            else "(type-checking)"
        )
        shown.append(f"-{mark}-> {target}" if mark else f"-> {target}")
    return " ".join(shown)


def cycles(graph: Graph) -> dict[frozenset[str], str]:
    """Every import cycle (a strongly connected set of modules), each shown by one of its cycles."""
    edges = graph.edges()
    return {
        frozenset(component): _show(graph, _a_cycle(edges, component))
        for component in _strongly_connected(edges)
        if len(component) > 1
    }


def _layer_of(module: str) -> str | None:
    best: tuple[int, str] | None = None
    for layer in LAYERS:
        for member in layer.members:
            full = f"{PACKAGE}.{member}" if member else PACKAGE
            below = bool(member) and module.startswith(full + ".")  # the root holds only itself
            if (module == full or below) and (best is None or len(full) > best[0]):
                best = (len(full), layer.name)
    return best[1] if best else None


def _package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations(graph: Graph) -> dict[tuple[str, str], str]:
    """Every import that breaks a layer rule or a library's ownership: (importer, target) → why."""
    may = {layer.name: {layer.name, *layer.may_import} for layer in LAYERS}
    found: dict[tuple[str, str], str] = {}
    for imp in graph.imports:
        where = f"{imp.importer} (line {imp.line}, layer {_layer_of(imp.importer)}) imports {imp.target}"
        if imp.target in graph.modules:
            own, theirs = _layer_of(imp.importer), _layer_of(imp.target)
            same_package = _package_of(imp.importer) == _package_of(imp.target)
            if not same_package and own is not None and theirs not in may[own]:
                found.setdefault((imp.importer, imp.target), f"{where} (layer {theirs})")
        elif imp.target in LIBRARY_OWNERS and _package_of(imp.importer) not in LIBRARY_OWNERS[imp.target]:
            owners = ", ".join(LIBRARY_OWNERS[imp.target])
            found.setdefault((imp.importer, imp.target), f"{where} (only {owners} may)")
    return found


def loaded_by_importing(graph: Graph, module: str) -> dict[str, list[str]]:
    """Every module that ``import module`` runs (module-level imports, parent packages included),
    each with the chain of modules that leads to it; other libraries by their top-level name."""
    edges: dict[str, set[str]] = {m: set() for m in graph.modules}
    for imp in graph.imports:
        if not imp.lazy and not imp.type_checking:
            edges[imp.importer].add(imp.target)
    for name in graph.modules:  # importing a.b.c runs a/__init__.py and a/b/__init__.py first
        parts = name.split(".")
        edges[name].update(".".join(parts[:i]) for i in range(1, len(parts)))
    chains = {module: [module]}
    queue = [module]
    while queue:
        node = queue.pop(0)
        for child in sorted(edges.get(node, ())):
            if child not in chains:
                chains[child] = [*chains[node], child]
                queue.append(child)
    return chains


def decide_imports(graph: Graph) -> list[str]:
    """What ``decide.py`` imports beyond DECIDE_MAY_IMPORT, or imports lazily at all."""
    tree = ast.parse(graph.modules[f"{PACKAGE}.decide"].read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    lazy = [
        f"{imp.target} (lazily)" for imp in graph.imports if imp.importer == f"{PACKAGE}.decide" and imp.lazy
    ]
    return sorted(names - DECIDE_MAY_IMPORT) + lazy


@functools.cache
def source_graph() -> Graph:
    """The graph of src/consentgate, read once per session and only when a test here runs."""
    return Graph.read(SRC)


# -- the tests -----------------------------------------------------------------------------------


def test_the_walk_sees_every_kind_of_import() -> None:
    """The graph is only as good as the parser: one module per kind, from today's code."""
    edges = {(imp.importer, imp.target) for imp in source_graph().imports}
    assert ("consentgate.decide", "consentgate.policy.models") in edges  # from-import of a module
    assert ("consentgate.pipeline.engines", "consentgate.pipeline.engines.spark") in edges  # f-string
    assert not [imp for imp in source_graph().imports if imp.target == "__future__"]
    assert any(imp.lazy and imp.importer.startswith("consentgate.cli.") for imp in source_graph().imports)
    assert any(imp.type_checking for imp in source_graph().imports)


def test_no_import_cycles() -> None:
    found = list(cycles(source_graph()).values())
    why = "import cycles (break them: move what both need down into a third module):\n"
    assert not found, why + "\n".join(sorted(found))


def test_every_module_has_a_layer() -> None:
    assert [m for m in source_graph().modules if _layer_of(m) is None] == [], (
        "a new package needs a row in the table of docs/architecture.md and in LAYERS"
    )


def test_imports_point_down_the_layers() -> None:
    broken = list(violations(source_graph()).values())
    assert not broken, "imports against docs/architecture.md:\n" + "\n".join(sorted(broken))


def test_decide_imports_only_models_and_pure_standard_modules() -> None:
    assert decide_imports(source_graph()) == []


def test_importing_decide_loads_no_io_library() -> None:
    chains = loaded_by_importing(source_graph(), "consentgate.decide")
    loaded = {name: chain for name, chain in chains.items() if name in IO_LIBRARIES}
    new = {name: chain for name, chain in loaded.items() if name not in KNOWN_DECIDE_LOADS}
    assert not new, "import consentgate.decide loads I/O libraries:\n" + "\n".join(
        f"{name}: {' -> '.join(chain)}" for name, chain in sorted(new.items())
    )
    stale = KNOWN_DECIDE_LOADS - loaded.keys()
    assert not stale, f"no longer loaded by decide: remove {sorted(stale)} from KNOWN_DECIDE_LOADS"


PLANTED = {
    # a lazy import that closes a circle errors -> decide -> errors
    "errors.py": "\n\ndef _planted() -> None:\n    import consentgate.decide\n",
    # an area importing the HTTP layer, only for types
    "pipeline/filter.py": "\nif TYPE_CHECKING:\n    from consentgate.server.app import create_app\n",
    # a lazy registry naming the CLI, and SQL, in the pure core
    "decide.py": '\n_LAZY = {"app": "consentgate.cli.app:app"}\nimport sqlalchemy\n',
    # a package nobody placed in a layer
    "newarea/__init__.py": '"""A new area."""\n',
}


def test_the_checks_catch_planted_faults(tmp_path: Path) -> None:
    """The checks above, on a copy of the source with one fault of each kind planted in it."""
    for path in (SRC / PACKAGE).rglob("*.py"):
        copy = tmp_path / path.relative_to(SRC)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    for name, text in PLANTED.items():
        target = tmp_path / PACKAGE / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            (target.read_text(encoding="utf-8") if target.exists() else "") + text, encoding="utf-8"
        )
    planted = Graph.read(tmp_path)

    found = cycles(planted)
    circle = next(shown for members, shown in found.items() if "consentgate.errors" in members)
    assert "consentgate.errors -(lazy)-> consentgate.decide" in circle
    assert set(found) - set(cycles(source_graph())) == {next(m for m in found if "consentgate.errors" in m)}

    new = set(violations(planted)) - set(violations(source_graph()))
    assert new == {
        ("consentgate.pipeline.filter", "consentgate.server.app"),
        ("consentgate.decide", "consentgate.cli.app"),
        ("consentgate.decide", "sqlalchemy"),
    }
    assert [m for m in planted.modules if _layer_of(m) is None] == ["consentgate.newarea"]
    assert decide_imports(planted) == ["sqlalchemy", "consentgate.cli.app (lazily)"]
    assert loaded_by_importing(planted, "consentgate.decide")["sqlalchemy"] == [
        "consentgate.decide",
        "sqlalchemy",
    ]


def _cells(cell: str) -> tuple[str, ...]:
    """Backticked names of a table cell, as the tables above spell them (``policy/`` → ``policy``)."""
    names = (name.rstrip("/") for name in re.findall(r"`([^`]+)`", cell))
    return tuple("" if name == PACKAGE else name for name in names)


def test_the_architecture_page_shows_the_tables_the_test_enforces() -> None:
    text = ARCHITECTURE_DOC.read_text(encoding="utf-8")
    layers = re.findall(r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \| [^|]+ \|$", text, flags=re.MULTILINE)
    assert {name: (_cells(members), _cells(may)) for name, members, may in layers} == {
        layer.name: (layer.members, layer.may_import) for layer in LAYERS
    }
    owners = re.findall(r"^\| `(\w+)` \| ([^|]+) \|$", text, flags=re.MULTILINE)
    assert {library: _cells(packages) for library, packages in owners} == LIBRARY_OWNERS
    for name in sorted(DECIDE_MAY_IMPORT - {"__future__"}) + sorted(IO_LIBRARIES):
        assert f"`{name}`" in text, f"docs/architecture.md does not name {name}"


CITED_OUTSIDE = re.compile(r"\b(?:DESIGN|STYLE)\.md\b|\bspecs/")
CITED_DOC = re.compile(r"\bdocs/[\w-]+\.md\b")


def test_comments_cite_files_of_this_repository() -> None:
    """Code and tests cite docs/ pages that exist, never the design notes kept outside the repository."""
    files = [
        path
        for folder in (SRC, ROOT / "tests")
        for path in sorted(folder.rglob("*"))
        if path.suffix in {".py", ".js", ".css", ".html"} and path != Path(__file__).resolve()
    ]
    outside, missing = [], []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}"
            outside += [f"{where}: {m.group()}" for m in CITED_OUTSIDE.finditer(line)]
            missing += [
                f"{where}: {m.group()}" for m in CITED_DOC.finditer(line) if not (ROOT / m.group()).exists()
            ]
    assert not outside, "cite a page under docs/ instead:\n" + "\n".join(outside)
    assert not missing, "cited pages that do not exist:\n" + "\n".join(missing)


if __name__ == "__main__":  # a look at the graph: python tests/test_architecture.py
    for imp in source_graph().imports:
        print(imp, file=sys.stdout)
