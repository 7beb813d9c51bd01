"""The layout's promises, checked on the source: no import cycle, short modules, benchmarks
in fastdnn/bench/, kernels that never import the rest of fastdnn (DEVELOPERS' architecture)."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fastdnn"
KERNELS = ROOT / "kernels"
# Modules allowed above MAX_LINES, each with its reason in the README's architecture section.
MAX_LINES = 300
LONG_MODULES = {}


def _modules():
    """{dotted name: path} of every module of fastdnn and fastdnn.kernels."""
    mods = {}
    for base, prefix in ((PACKAGE, ("fastdnn",)), (KERNELS, ("fastdnn", "kernels"))):
        for path in base.rglob("*.py"):
            parts = prefix + path.relative_to(base).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    return mods


def _imports(name, path, modules):
    """The fastdnn modules that module ``name`` imports, anywhere in its code (inside
    functions too: a cycle closed by a late import is still a cycle)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            # `from pkg import sub` imports the submodule pkg.sub when there is one.
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source
                       for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def _graph():
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, stack)
                if found:
                    return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def test_no_import_cycle():
    graph = _graph()
    assert len(graph) > 30                       # the walk found the package
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_kernels_import_nothing_of_fastdnn():
    graph = _graph()
    for name, targets in graph.items():
        if name.startswith("fastdnn.kernels"):
            outside = {t for t in targets if not t.startswith("fastdnn.kernels")}
            assert not outside, f"{name} imports {outside}: kernels never call back into fastdnn"


def test_modules_are_short():
    readme = (ROOT / "README.md").read_text()
    for name, path in _modules().items():
        lines = len(path.read_text().splitlines())
        if name in LONG_MODULES:
            assert LONG_MODULES[name] in readme
        else:
            assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def test_benchmark_code_lives_in_bench():
    for path in PACKAGE.glob("*.py"):
        assert not path.stem.startswith("bench") and path.stem != "baseline", path
    assert (PACKAGE / "bench" / "timing.py").exists()
    # One timing loop: only timing.py reads the clock.
    for path in (PACKAGE / "bench").glob("*.py"):
        if path.name not in ("timing.py", "start.py"):
            assert "perf_counter" not in path.read_text(), path


def test_readme_architecture_names_every_folder_and_module():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Architecture"):]
    end = section.find("\n## ", 3)
    section = section if end < 0 else section[:end]
    for path in list(PACKAGE.rglob("*.py")) + list(KERNELS.glob("*.py")):
        if path.stem in ("__init__", "_version"):
            continue
        assert path.name in section, f"the README's architecture section misses {path.name}"
