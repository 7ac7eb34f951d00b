"""The pathway: graph data, DOT output parsed by a real DOT parser, expected readouts."""

from __future__ import annotations

import itertools
from pathlib import Path

import pydot
import pytest

import mtor_pharm.registry as reg
from mtor_pharm import pathway
from mtor_pharm.errors import UnknownInhibitorError
from mtor_pharm.registry import Inhibitor

# pydot 4.0.1 still calls pyparsing's camelCase API, which pyparsing >= 3.3 deprecates; that
# warning concerns the test dependency, not this package, and is ignored for these tests only.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:'setParseAction' deprecated - use 'set_parse_action':DeprecationWarning"
)


def _parse(dot: str) -> pydot.Dot:
    graphs = pydot.graph_from_dot_data(dot)
    assert graphs is not None and len(graphs) == 1
    return graphs[0]


def _unquote(name: str) -> str:
    return name[1:-1].replace('\\"', '"') if name.startswith('"') else name


def _names(graph: pydot.Dot) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    """Node names (declared or used in edges), cluster names, and edges, of a graph and its subgraphs."""
    nodes: set[str] = set()
    clusters: set[str] = set()
    edges: set[tuple[str, str]] = set()
    stack: list[pydot.Graph] = [graph]
    while stack:
        g = stack.pop()
        nodes |= {_unquote(n.get_name()) for n in g.get_nodes()} - {"node", "edge", "graph"}
        for e in g.get_edges():
            src, dst = _unquote(str(e.get_source())), _unquote(str(e.get_destination()))
            edges.add((src, dst))
            nodes |= {src, dst}
        for sub in g.get_subgraphs():
            clusters.add(_unquote(sub.get_name()))
            stack.append(sub)
    return nodes, clusters, edges


def test_edges_and_readouts_refer_to_nodes_of_the_graph() -> None:
    ids = {n.id for n in pathway.NODES}
    assert len(ids) == len(pathway.NODES)
    for e in pathway.EDGES:
        assert e.source in ids and e.target in ids
    phospho = {(e.source, e.target, e.site) for e in pathway.EDGES if e.effect == "phosphorylates"}
    assert {(r.kinase, r.substrate, r.site) for r in pathway.READOUTS} == phospho
    assert [r.name for r in pathway.READOUTS] == ["p-S6K1 T389", "p-4E-BP1 T37/46", "p-Akt S473"]


def test_graph_holds_the_issue_network_and_the_feedback() -> None:
    chain = ["growth factors", "RTK", "IRS-1", "PI3K", "Akt", "TSC1/2", "Rheb", "mTORC1"]
    pairs = {(e.source, e.target) for e in pathway.EDGES}
    assert all(link in pairs for link in itertools.pairwise(chain))
    feedback = [e for e in pathway.EDGES if e.feedback]
    assert [(e.source, e.target, e.effect) for e in feedback] == [("S6K1", "IRS-1", "inhibits")]
    assert ("mTORC2", "Akt") in pairs and "FKBP12" in {n.id for n in pathway.NODES}


def test_dot_without_inhibitor_parses_and_names_every_node() -> None:
    nodes, clusters, edges = _names(_parse(pathway.to_dot()))
    assert {n.id for n in pathway.NODES} == nodes
    assert clusters == {"cluster_mTOR"}
    assert {(e.source, e.target) for e in pathway.EDGES} == edges


@pytest.mark.parametrize("inh", reg.all(), ids=lambda i: i.name)
def test_dot_parses_and_names_every_target_of_every_inhibitor(inh: Inhibitor) -> None:
    nodes, clusters, edges = _names(_parse(pathway.to_dot(inh)))
    named = nodes | {c.removeprefix("cluster_") for c in clusters}
    for target in inh.targets:
        site = "PI3K" if target.startswith("PI3K") else target
        assert site in named, target
    assert inh.name in nodes
    drug_edges = {dst for src, dst in edges if src == inh.name}
    assert drug_edges  # the inhibitor acts somewhere
    if inh.mechanism == "allosteric-rapalog":
        assert drug_edges == {"FKBP12"} and ("FKBP12", "mTORC1") in edges


def test_dot_draws_off_pathway_targets_and_the_mtor_kinase_site() -> None:
    graph = _parse(pathway.to_dot("Torin2"))
    nodes, clusters, edges = _names(graph)
    assert {"ATM", "ATR", "DNA-PK"} <= nodes and "cluster_other" in clusters
    mtor_edge = [e for e in graph.get_edges() if _unquote(str(e.get_source())) == "Torin2"
                 and _unquote(str(e.get_destination())) == "mTORC1"]
    assert len(mtor_edge) == 1 and _unquote(mtor_edge[0].get("lhead")) == "cluster_mTOR"


def test_dot_labels_readouts_with_expected_directions() -> None:
    graph = _parse(pathway.to_dot("rapamycin"))
    labels = {(_unquote(str(e.get_source())), _unquote(str(e.get_destination()))):
              _unquote(e.get("label") or "") for e in graph.get_edges()}
    assert labels[("mTORC1", "S6K1")] == "T389 ↓"
    assert labels[("mTORC2", "Akt")] == "S473 –/↑"


def test_dot_escapes_quotes_in_user_compound_names(tmp_path: Path) -> None:
    path = tmp_path / "lab.toml"
    path.write_text(
        '[[compound]]\nname = \'LAB "quoted" 1\'\ngeneration = 2\nmechanism = "dual-pi3k-mtor"\n'
        'targets = ["PI3Kα", "mTOR", "CDK9"]\n', encoding="utf-8")
    lab = reg.load(path)
    nodes, _, _ = _names(_parse(pathway.to_dot('LAB "quoted" 1', registry=lab)))
    assert {'LAB "quoted" 1', "PI3K", "CDK9"} <= nodes


def test_sites_of_action_follow_targets_and_mechanism() -> None:
    assert pathway.sites_of_action("rapamycin") == ("FKBP12", "mTORC1")
    assert pathway.sites_of_action("INK128") == ("mTORC1", "mTORC2")
    assert pathway.sites_of_action("Torin2") == ("mTOR", "ATM", "ATR", "DNA-PK")
    assert pathway.sites_of_action("apitolisib") == ("PI3K", "mTOR")
    # No sourced target: the sites of the mechanism class.
    assert pathway.sites_of_action("umirolimus") == ("FKBP12", "mTORC1")
    assert pathway.sites_of_action("WYE-354") == ("mTOR",)


@pytest.mark.parametrize("inh", reg.filter(generation=1), ids=lambda i: i.name)
def test_rapalogs_lower_p_s6k1_but_not_p_akt_s473(inh: Inhibitor) -> None:
    assert pathway.expected_readouts(inh) == {
        "p-S6K1 T389": "down", "p-4E-BP1 T37/46": "partially down",
        "p-Akt S473": "unchanged or up",
    }


@pytest.mark.parametrize("inh", reg.filter(generation=2) + reg.filter(generation=3),
                         ids=lambda i: i.name)
def test_atp_site_inhibitors_lower_all_three_readouts(inh: Inhibitor) -> None:
    readouts = pathway.expected_readouts(inh)
    assert list(readouts) == [r.name for r in pathway.READOUTS]
    assert set(readouts.values()) == {"down"}


def test_expected_readouts_returns_a_fresh_mapping() -> None:
    first = pathway.expected_readouts("sirolimus")
    first["p-S6K1 T389"] = "unchanged or up"
    assert pathway.expected_readouts("sirolimus")["p-S6K1 T389"] == "down"


def test_pathway_functions_reject_unknown_names_and_types() -> None:
    with pytest.raises(UnknownInhibitorError, match="got 'rapamicin'"):
        pathway.expected_readouts("rapamicin")
    with pytest.raises(UnknownInhibitorError):
        pathway.to_dot("no-such-drug")
    with pytest.raises(TypeError, match="`inhibitor` must be an Inhibitor or a compound name; got int"):
        pathway.sites_of_action(5)  # type: ignore[arg-type]
