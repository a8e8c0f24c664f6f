"""The house in layers (docs/architecture.md): imports run one way, adapters are pure,
and no module imports itself round a cycle. Read from the source with `ast`, so a
wrong-way import fails here before it can tangle anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Bottom up. A module may import modules of its own layer and the layers below.
LAYERS = ("accounts", "posts", "scheduling", "publishing", "analytics")
# Faces may use any layer; no layer module imports a face.
FACES = frozenset({"admin", "api", "views", "tasks", "urls", "management", "apps", "forms"})
NETWORKS = "publishing.networks"
# What an adapter may import of the project: the interface, the Graph API client the
# Meta adapters share, and its own package.
ADAPTER_BASE = "publishing.networks.base"
ADAPTER_SHARED = frozenset({ADAPTER_BASE, "publishing.networks.graph"})
MODEL_MODULES = tuple(f"{app}.models" for app in LAYERS)
# Plumbing every layer may use: it knows nothing of Kairos's rows or rules.
INFRASTRUCTURE = frozenset({"config.logs"})


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path) -> dict[str, Path]:
    modules = {}
    for app in (*LAYERS, "config"):
        for path in (root / app).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[module_name(root, path)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, anywhere in its source (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # A name that is no module of its own resolves to `base` below.
            targets = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def is_face(name: str) -> bool:
    parts = name.split(".")
    # urls_sandbox and the like are URL confs too; api_page and the like, the API's.
    return parts[0] == "config" or any(
        part in FACES or part.startswith(("urls_", "api_")) for part in parts[1:]
    )


def is_adapter(name: str) -> bool:
    return name.startswith(f"{NETWORKS}.")


def layer_of(name: str) -> int:
    return LAYERS.index(name.split(".")[0])


def wrong_imports(root: Path) -> list[str]:
    """Every import that breaks a rule of the layers, as `module -> module: why`."""
    modules = project_modules(root)
    problems = []
    for name, path in sorted(modules.items()):
        for target in sorted(imports_of(name, path, modules)):
            why = _why_wrong(name, target)
            if why:
                problems.append(f"{name} -> {target}: {why}")
    return problems


def _why_wrong(name: str, target: str) -> str:
    if is_adapter(name):
        own_package = ".".join(name.split(".")[:3])
        if target not in ADAPTER_SHARED and not target.startswith(own_package):
            return (
                "an adapter imports only publishing.networks.base (or .graph) and its own package"
            )
        return ""
    if is_face(name) or target in INFRASTRUCTURE:
        return ""
    if is_face(target):
        return "a layer imports no face (admin, API, views, tasks, commands, urls)"
    if layer_of(target) > layer_of(name):
        return f"{name.split('.')[0]} is below {target.split('.')[0]}"
    return ""


def import_cycles(root: Path) -> list[list[str]]:
    """Groups of modules that import each other round a cycle (Tarjan's components)."""
    modules = project_modules(root)
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            component.append(node)
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_imports_run_one_way():
    assert wrong_imports(ROOT) == []


def test_no_import_cycle():
    assert import_cycles(ROOT) == []


def test_no_adapter_imports_a_model_or_a_service():
    modules = project_modules(ROOT)
    for name, path in modules.items():
        if is_adapter(name):
            imported = imports_of(name, path, modules)
            assert not {t for t in imported if t.endswith("services") or t in MODEL_MODULES}


# --- The checks themselves fail where they should ---------------------------------------


# Modules the trees below import from, as in the project.
EXISTING = (
    "accounts/models.py",
    "publishing/models.py",
    "publishing/ratelimits.py",
    "publishing/tasks.py",
    "publishing/networks/__init__.py",
    "publishing/networks/base.py",
    "publishing/networks/x/client.py",
)


def tree(root: Path, files: dict[str, str]) -> Path:
    files = {**dict.fromkeys(EXISTING, ""), **files}
    for app in (*LAYERS, "config"):
        (root / app).mkdir(parents=True, exist_ok=True)
        (root / app / "__init__.py").touch()
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            if str(parent) != ".":
                (root / parent / "__init__.py").touch()
        path.write_text(source)
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"accounts/selectors.py": "from publishing.ratelimits import rate_limited_until\n"},
            "accounts.selectors -> publishing.ratelimits: accounts is below publishing",
        ),
        (
            {"scheduling/services.py": "def f():\n    from publishing import models\n"},
            "scheduling.services -> publishing.models: scheduling is below publishing",
        ),
        (
            {"publishing/networks/x/adapter.py": "from accounts.models import SocialAccount\n"},
            "publishing.networks.x.adapter -> accounts.models: an adapter imports only "
            "publishing.networks.base (or .graph) and its own package",
        ),
        (
            {"publishing/dispatch.py": "from publishing.tasks import publish_jobs\n"},
            "publishing.dispatch -> publishing.tasks: a layer imports no face (admin, API, "
            "views, tasks, commands, urls)",
        ),
    ],
    ids=["ground-floor-up", "lazy-import-up", "adapter-model", "layer-to-face"],
)
def test_a_wrong_way_import_is_found(tmp_path, files, expected):
    assert wrong_imports(tree(tmp_path, files)) == [expected]


def test_faces_and_downward_imports_pass(tmp_path):
    root = tree(
        tmp_path,
        {
            "publishing/admin.py": "from analytics.services import stats\n",
            "analytics/services.py": "from publishing.models import PublishJob\n",
            "publishing/networks/x/adapter.py": "from publishing.networks.base import Account\n"
            "from publishing.networks.x.client import XClient\n",
        },
    )
    assert wrong_imports(root) == []


def test_a_cycle_is_found(tmp_path):
    root = tree(
        tmp_path,
        {
            "publishing/dispatch.py": "from publishing import execution\n",
            "publishing/execution.py": "from publishing import dispatch\n",
        },
    )
    assert import_cycles(root) == [["publishing.dispatch", "publishing.execution"]]
