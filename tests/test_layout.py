"""The package layout: no import cycles among the project's modules.

Imports inside functions count: a lazy import that dodges a cycle at start-up is still one
(the modules cannot be read, tested or replaced alone).
"""

from __future__ import annotations

import grimp
import networkx as nx


def _import_graph(*packages: str) -> nx.DiGraph:
    graph = grimp.build_graph(*packages, exclude_type_checking_imports=True)
    edges = nx.DiGraph()
    for module in graph.modules:
        edges.add_node(module)
        edges.add_edges_from((module, m) for m in graph.find_modules_directly_imported_by(module))
    return edges


def _cycles(edges: nx.DiGraph) -> list[set[str]]:
    return [c for c in nx.strongly_connected_components(edges) if len(c) > 1]


def test_no_import_cycles_in_routing_and_training():
    cycles = _cycles(_import_graph("routing", "training"))
    assert cycles == [], f"import cycles: {cycles}"


def test_the_cycle_check_sees_imports_inside_functions(tmp_path, monkeypatch):
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic import b\n")
    (package / "b.py").write_text("def later():\n    from cyclic import a\n    return a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _cycles(_import_graph("cyclic")) == [{"cyclic.a", "cyclic.b"}]
