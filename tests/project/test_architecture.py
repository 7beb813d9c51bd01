"""The layout's promises, checked on the source: no import cycle; kernels that never import
the rest of fastdnn and take a few arguments (structs), each serial twin with its parallel
twin's signature; a command line that never imports the benchmarks; benchmark code in
fastdnn/bench/; tests that use only public names; docs/architecture.md naming every module.
A module over ~400 lines is a prompt to look (a warning), not a failure."""
import ast
import re
import warnings

from conftest import ROOT

PACKAGE = ROOT / "fastdnn"
KERNELS = ROOT / "kernels"
LONG_MODULE = 400          # lines: past this, a module is worth a look
KERNEL_ARGS = 8            # the most arguments a kernel takes (pass a struct instead)


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


def _imports(name, path, modules, top_level_only=False):
    """The fastdnn modules that module ``name`` imports, anywhere in its code (inside
    functions too: a cycle closed by a late import is still a cycle)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text())
    for node in (tree.body if top_level_only else ast.walk(tree)):
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


def _graph(top_level_only=False):
    modules = _modules()
    return {name: _imports(name, path, modules, top_level_only)
            for name, path in modules.items()}


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
    assert len(graph) > 40                       # the walk found the package
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_kernels_import_nothing_of_fastdnn():
    for name, targets in _graph().items():
        if name.startswith("fastdnn.kernels"):
            outside = {t for t in targets if not t.startswith("fastdnn.kernels")}
            assert not outside, f"{name} imports {outside}: kernels never call back into fastdnn"


def _kernels():
    """(file, function) of every function decorated as a kernel."""
    for path in sorted(KERNELS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                    "kernel" in ast.unparse(d) for d in node.decorator_list):
                yield path.name, node


def test_kernels_take_a_few_arguments():
    many = [f"{f}:{k.name} ({len(k.args.args)})" for f, k in _kernels()
            if len(k.args.args) > KERNEL_ARGS]
    assert not many, f"kernels over {KERNEL_ARGS} arguments (pass a struct): {many}"


def test_each_serial_twin_has_its_parallel_twins_signature():
    kernels = {k.name: [a.arg for a in k.args.args] for _, k in _kernels()}
    twins = [name for name in kernels if name.endswith("_serial")]
    assert len(twins) >= 6
    for name in twins:
        assert kernels[name] == kernels[name[:-len("_serial")]], name


def test_the_command_line_never_imports_the_benchmarks():
    # `fastdnn bench` loads them when it runs (parser._bench), and nothing else does.
    modules = _modules()
    for name in modules:
        if name.startswith("fastdnn.cli"):
            top = _imports(name, modules[name], modules, top_level_only=True)
            assert not any(t.startswith("fastdnn.bench") for t in top), name
            if name != "fastdnn.cli.parser":
                everywhere = _imports(name, modules[name], modules)
                assert not any(t.startswith("fastdnn.bench") for t in everywhere), name


def test_long_modules_are_a_prompt_to_look():
    for name, path in _modules().items():
        lines = len(path.read_text().splitlines())
        if lines > LONG_MODULE:
            warnings.warn(f"{path.relative_to(ROOT)} has {lines} lines: does it hold one topic?")


def test_benchmark_code_lives_in_bench():
    for path in PACKAGE.glob("*.py"):
        assert not path.stem.startswith("bench") and path.stem != "baseline", path
    assert (PACKAGE / "bench" / "timing.py").exists()
    # One timing loop: only timing.py (and start.py, which times fresh interpreters) reads
    # the clock among the benchmarks.
    for path in (PACKAGE / "bench").glob("*.py"):
        if path.name not in ("timing.py", "start.py"):
            assert "perf_counter" not in path.read_text(), path


def test_tests_use_only_public_names():
    private = re.compile(r"fastdnn(\.\w+)*\._[a-z]\w*|from fastdnn[\w.]* import [^\n]*\b_[a-z]")
    for path in (ROOT / "tests").rglob("*.py"):
        found = private.search(path.read_text())
        assert found is None, f"{path.relative_to(ROOT)} uses {found.group(0)!r}"


def test_architecture_doc_names_every_folder_and_module():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    for path in list(PACKAGE.rglob("*.py")) + list(KERNELS.glob("*.py")):
        if path.stem in ("__init__", "__main__", "_version"):
            continue
        assert path.name in doc, f"docs/architecture.md misses {path.relative_to(ROOT)}"
    for folder in [p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__"]:
        assert f"{folder.name}/" in doc, f"docs/architecture.md misses {folder.name}/"
