"""The mTOR signalling network as data, drawn as Graphviz DOT, with where each inhibitor acts.

Growth factors → RTK → IRS-1 → PI3K → Akt ⊣ TSC1/2 ⊣ Rheb → mTORC1, which
phosphorylates S6K1 (T389) and 4E-BP1 (T37/46); mTORC2 phosphorylates Akt
(S473); active S6K1 damps IRS-1 (the negative feedback that blocking mTORC1
alone relieves); FKBP12 is the rapalogs' binding partner.  The three standard
Western-blot readouts are p-S6K1 T389 and p-4E-BP1 T37/46 (mTORC1) and
p-Akt S473 (mTORC2).

Examples
--------
>>> mp.pathway.expected_readouts("everolimus")["p-Akt S473"]
'unchanged or up'
>>> mp.pathway.to_dot("sapanisertib").startswith("digraph")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from .errors import UnknownInhibitorError
from .registry import Inhibitor, Registry, get
from .registry._model import Mechanism, _normalize

__all__ = [
    "EDGES",
    "NODES",
    "OTHER_KINASES",
    "READOUTS",
    "Direction",
    "Edge",
    "Effect",
    "Node",
    "Readout",
    "expected_readouts",
    "sites_of_action",
    "to_dot",
]

#: How the source node acts on the target node.
Effect: TypeAlias = Literal["activates", "inhibits", "phosphorylates", "binds"]
#: Expected change of a phospho-readout after treatment, relative to vehicle.
Direction: TypeAlias = Literal["down", "partially down", "unchanged or up"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """A protein, complex or input of the network.

    Attributes
    ----------
    id : str
        Name used in edges and in the DOT output, e.g. ``"TSC1/2"``.
    kind : str
        E.g. ``"receptor"``, ``"lipid kinase"``, ``"kinase complex"``.
    description : str
    """

    id: str
    kind: str
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    """A directed interaction ``source → target``.

    Attributes
    ----------
    source, target : str
        Node ids.
    effect : Effect
        ``"activates"``, ``"inhibits"`` (drawn ⊣), ``"phosphorylates"`` (at `site`) or
        ``"binds"``.
    site : str or None
        Phosphorylation site, e.g. ``"T389"``.
    feedback : bool
        True for the S6K1 ⊣ IRS-1 negative feedback.
    note : str
    """

    source: str
    target: str
    effect: Effect
    site: str | None = None
    feedback: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Readout:
    """A phospho-readout: the phosphorylation of `substrate` at `site` by `kinase`.

    Attributes
    ----------
    name : str
        E.g. ``"p-S6K1 T389"``.
    kinase, substrate : str
        Node ids of the phosphorylating complex and its substrate.
    site : str
    reports : str
        The complex whose activity the readout reports.
    """

    name: str
    kinase: str
    substrate: str
    site: str
    reports: str


#: The network of the pathway, in upstream-to-downstream order.
NODES: tuple[Node, ...] = (
    Node(id="growth factors", kind="input", description="insulin / IGF and other growth factors"),
    Node(id="RTK", kind="receptor", description="receptor tyrosine kinase (insulin/IGF-1 receptor)"),
    Node(id="IRS-1", kind="adaptor", description="insulin receptor substrate 1"),
    Node(id="PI3K", kind="lipid kinase", description="class I phosphoinositide 3-kinase"),
    Node(id="Akt", kind="kinase", description="protein kinase B"),
    Node(id="TSC1/2", kind="GAP complex", description="tuberous sclerosis complex; GAP for Rheb"),
    Node(id="Rheb", kind="GTPase", description="activates mTORC1 when GTP-bound"),
    Node(id="mTORC1", kind="kinase complex", description="mTOR with Raptor; rapamycin-sensitive"),
    Node(id="mTORC2", kind="kinase complex", description="mTOR with Rictor; rapamycin-insensitive acutely"),
    Node(id="S6K1", kind="kinase", description="p70 S6 kinase 1; mTORC1 substrate"),
    Node(id="4E-BP1", kind="translation repressor", description="eIF4E-binding protein 1; mTORC1 substrate"),
    Node(id="FKBP12", kind="binding protein", description="binds rapalogs; FKBP12–drug binds the FRB domain of mTOR"),
)

#: Kinases outside the pathway that some inhibitors also hit (drawn only when targeted).
OTHER_KINASES: tuple[Node, ...] = (
    Node(id="ATM", kind="kinase", description="PIKK family"),
    Node(id="ATR", kind="kinase", description="PIKK family"),
    Node(id="DNA-PK", kind="kinase", description="PIKK family (PRKDC)"),
)

#: Interactions of the pathway.
EDGES: tuple[Edge, ...] = (
    Edge(source="growth factors", target="RTK", effect="activates"),
    Edge(source="RTK", target="IRS-1", effect="activates"),
    Edge(source="IRS-1", target="PI3K", effect="activates"),
    Edge(source="PI3K", target="Akt", effect="activates", note="through PIP3"),
    Edge(source="Akt", target="TSC1/2", effect="inhibits"),
    Edge(source="TSC1/2", target="Rheb", effect="inhibits", note="GAP activity"),
    Edge(source="Rheb", target="mTORC1", effect="activates"),
    Edge(source="mTORC1", target="S6K1", effect="phosphorylates", site="T389"),
    Edge(source="mTORC1", target="4E-BP1", effect="phosphorylates", site="T37/46"),
    Edge(source="mTORC2", target="Akt", effect="phosphorylates", site="S473"),
    Edge(source="S6K1", target="IRS-1", effect="inhibits", feedback=True,
         note="negative feedback; blocking mTORC1 alone relieves it and raises PI3K/Akt signalling"),
    Edge(source="FKBP12", target="mTORC1", effect="binds",
         note="only as the FKBP12–rapalog complex, at the FRB domain"),
)

#: The standard phospho-readouts.
READOUTS: tuple[Readout, ...] = (
    Readout(name="p-S6K1 T389", kinase="mTORC1", substrate="S6K1", site="T389", reports="mTORC1"),
    Readout(name="p-4E-BP1 T37/46", kinase="mTORC1", substrate="4E-BP1", site="T37/46",
            reports="mTORC1"),
    Readout(name="p-Akt S473", kinase="mTORC2", substrate="Akt", site="S473", reports="mTORC2"),
)

_EXPECTED: dict[Mechanism, dict[str, Direction]] = {
    # FKBP12-rapalog blocks mTORC1 only, and only partly for 4E-BP1; mTORC2 is acutely
    # insensitive, and the relieved S6K1 -| IRS-1 feedback can raise p-Akt S473.
    "allosteric-rapalog": {
        "p-S6K1 T389": "down", "p-4E-BP1 T37/46": "partially down", "p-Akt S473": "unchanged or up",
    },
    "atp-competitive-torki": {
        "p-S6K1 T389": "down", "p-4E-BP1 T37/46": "down", "p-Akt S473": "down",
    },
    "dual-pi3k-mtor": {
        "p-S6K1 T389": "down", "p-4E-BP1 T37/46": "down", "p-Akt S473": "down",
    },
    "bitopic": {
        "p-S6K1 T389": "down", "p-4E-BP1 T37/46": "down", "p-Akt S473": "down",
    },
}

# Sites assumed from the mechanism class when the sources name no target.
_DEFAULT_SITES: dict[Mechanism, tuple[str, ...]] = {
    "allosteric-rapalog": ("mTORC1",),
    "atp-competitive-torki": ("mTOR",),
    "dual-pi3k-mtor": ("PI3K", "mTOR"),
    "bitopic": ("mTOR",),
}

_NODE_IDS = {_normalize(n.id): n.id for n in (*NODES, *OTHER_KINASES)}
_MTOR_CLUSTER = "cluster_mTOR"


def _inhibitor(inhibitor: Inhibitor | str, registry: Registry | None) -> Inhibitor:
    if isinstance(inhibitor, Inhibitor):
        return inhibitor
    if not isinstance(inhibitor, str):
        raise TypeError(
            f"`inhibitor` must be an Inhibitor or a compound name; got {type(inhibitor).__name__}."
        )
    if registry is not None and not isinstance(registry, Registry):
        raise TypeError(f"`registry` must be a mtor_pharm Registry or None; got {type(registry).__name__}.")
    try:
        return get(inhibitor) if registry is None else registry.get(inhibitor)
    except UnknownInhibitorError as exc:
        raise UnknownInhibitorError(f"`inhibitor`: {exc}") from None


def _site(target: str) -> str:
    key = _normalize(target)
    if key == "mtor":
        return "mTOR"
    if key.startswith("pi3k"):  # PI3K, PI3Kα, ... : the pathway has one class I PI3K node
        return "PI3K"
    return _NODE_IDS.get(key, target)


def sites_of_action(inhibitor: Inhibitor | str, *, registry: Registry | None = None) -> tuple[str, ...]:
    """Where an inhibitor acts on the network.

    Each of the compound's targets maps to a node id (``"PI3Kα"`` to ``"PI3K"``),
    or to ``"mTOR"`` (the kinase shared by mTORC1 and mTORC2, when the source
    does not name a complex).  Rapalogs also act through ``"FKBP12"``.  When
    the sources name no target, the sites of the mechanism class are used.

    Parameters
    ----------
    inhibitor : Inhibitor or str
        A compound or any of its names.
    registry : Registry, optional
        Where names are looked up; the built-in registry by default.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> mp.pathway.sites_of_action("rapamycin")
    ('FKBP12', 'mTORC1')
    >>> mp.pathway.sites_of_action("dactolisib")
    ('PI3K', 'mTOR')
    """
    inh = _inhibitor(inhibitor, registry)
    targets = inh.targets or _DEFAULT_SITES[inh.mechanism]
    sites = [_site(t) for t in targets]
    if inh.mechanism == "allosteric-rapalog":
        sites.insert(0, "FKBP12")
    return tuple(dict.fromkeys(sites))


def expected_readouts(
    inhibitor: Inhibitor | str, *, registry: Registry | None = None
) -> dict[str, Direction]:
    """Expected direction of the standard phospho-readouts for an inhibitor's mechanism.

    A rapalog lowers p-S6K1 T389, lowers p-4E-BP1 T37/46 only partly, and
    leaves p-Akt S473 unchanged or raises it (mTORC2 is acutely insensitive,
    and blocking S6K1 relieves its feedback on IRS-1).  An ATP-competitive
    inhibitor (TORKi or dual PI3K/mTOR) and the bitopic RapaLink-1 lower all three.

    Parameters
    ----------
    inhibitor : Inhibitor or str
        A compound or any of its names.
    registry : Registry, optional
        Where names are looked up; the built-in registry by default.

    Returns
    -------
    dict
        Readout name (``"p-S6K1 T389"``, ``"p-4E-BP1 T37/46"``, ``"p-Akt S473"``) →
        ``"down"``, ``"partially down"`` or ``"unchanged or up"``.

    Examples
    --------
    >>> mp.pathway.expected_readouts("rapamycin")
    {'p-S6K1 T389': 'down', 'p-4E-BP1 T37/46': 'partially down', 'p-Akt S473': 'unchanged or up'}
    >>> set(mp.pathway.expected_readouts("Torin1").values())
    {'down'}
    """
    inh = _inhibitor(inhibitor, registry)
    return dict(_EXPECTED[inh.mechanism])


def _q(text: str) -> str:
    """A DOT double-quoted ID."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_ARROW = {"activates": "normal", "inhibits": "tee", "phosphorylates": "normal", "binds": "none"}
_SYMBOL = {"down": "↓", "partially down": "(↓)", "unchanged or up": "–/↑"}


def to_dot(inhibitor: Inhibitor | str | None = None, *, registry: Registry | None = None) -> str:
    """The pathway as Graphviz DOT, optionally with an inhibitor's sites of action.

    With an inhibitor, it is drawn as an extra node with inhibition edges (⊣)
    to each site of action (:func:`sites_of_action`; ``"mTOR"`` points at the
    box holding both complexes, and targets outside the pathway such as ATM
    are added), and the readout edges are labelled with the expected
    direction (:func:`expected_readouts`).

    Parameters
    ----------
    inhibitor : Inhibitor or str, optional
    registry : Registry, optional
        Where names are looked up; the built-in registry by default.

    Returns
    -------
    str
        A ``digraph``; render it with ``dot -Tsvg``.

    Examples
    --------
    >>> dot = mp.pathway.to_dot("everolimus")
    >>> '"Everolimus" -> "FKBP12"' in dot
    True
    """
    inh = None if inhibitor is None else _inhibitor(inhibitor, registry)
    sites = sites_of_action(inh) if inh is not None else ()
    expected = expected_readouts(inh) if inh is not None else {}
    title = "mTOR signalling" + (f": sites of action of {inh.name}" if inh is not None else "")
    lines = [
        "digraph mtor_pathway {",
        f"  graph [rankdir=TB, compound=true, fontname=Helvetica, labelloc=t, label={_q(title)}];",
        '  node [shape=box, style="rounded,filled", fillcolor="#f7f7f7", fontname=Helvetica];',
        "  edge [fontname=Helvetica, fontsize=10];",
    ]
    hit = {s for s in sites if s != "mTOR"}
    mtor_hit = "mTOR" in sites
    for node in NODES:
        if node.id in ("mTORC1", "mTORC2"):
            continue
        fill = ', fillcolor="#fcbba1"' if node.id in hit else ""
        lines.append(f"  {_q(node.id)} [tooltip={_q(node.description)}{fill}];")
    lines.append(f"  subgraph {_q(_MTOR_CLUSTER)} {{")
    lines.append('    label="mTOR"; style="rounded"; color="#636363";')
    for cid in ("mTORC1", "mTORC2"):
        node = next(n for n in NODES if n.id == cid)
        fill = ', fillcolor="#fcbba1"' if cid in hit or mtor_hit else ""
        lines.append(f"    {_q(cid)} [tooltip={_q(node.description)}{fill}];")
    lines.append("  }")

    off = [s for s in sites if s not in {n.id for n in NODES} and s != "mTOR"]
    if off:
        lines.append(f"  subgraph {_q('cluster_other')} {{")
        lines.append('    label="other kinases"; style="dashed"; color="#969696";')
        for s in off:
            lines.append(f'    {_q(s)} [fillcolor="#fcbba1"];')
        lines.append("  }")

    readout_of = {(r.kinase, r.substrate): r for r in READOUTS}
    order = {n.id: i for i, n in enumerate(NODES)}
    rapalog = inh is not None and inh.mechanism == "allosteric-rapalog"
    for e in EDGES:
        attrs = [f"arrowhead={_ARROW[e.effect]}"]
        label = e.site or ""
        r = readout_of.get((e.source, e.target))
        if r is not None and r.name in expected:
            label = f"{label} {_SYMBOL[expected[r.name]]}"
        if e.feedback:
            attrs.append('style=dashed, color="#6a51a3"')
            label = label or "feedback"
        if e.effect == "binds":
            if rapalog:
                attrs = ['arrowhead=tee, color="#cb181d", penwidth=2']
                label = "FRB"
            else:
                attrs.append('style=dotted, color="#969696"')
                label = "FRB (with rapalog)"
        if order[e.target] < order[e.source]:  # a loop back upstream: keep the layout top-down
            attrs.append("constraint=false")
        if label:
            attrs.append(f"label={_q(label)}")
        if e.note:
            attrs.append(f"tooltip={_q(e.note)}")
        lines.append(f"  {_q(e.source)} -> {_q(e.target)} [{', '.join(attrs)}];")

    if inh is not None:
        node_ids = {n.id for n in (*NODES, *OTHER_KINASES)} | set(off)
        drug = inh.name if inh.name not in node_ids else f"{inh.name} (inhibitor)"
        lines.append(
            f'  {_q(drug)} [shape=octagon, fillcolor="#cb181d", fontcolor=white, '
            f"tooltip={_q(inh.mechanism)}];"
        )
        for s in sites:
            if s == "FKBP12":
                lines.append(f'  {_q(drug)} -> {_q("FKBP12")} [label="binds", color="#cb181d"];')
            elif rapalog and s == "mTORC1":
                continue  # drawn as the FKBP12 -| mTORC1 (FRB) edge
            elif s == "mTOR":
                lines.append(
                    f'  {_q(drug)} -> {_q("mTORC1")} [lhead={_q(_MTOR_CLUSTER)}, arrowhead=tee, '
                    'color="#cb181d", penwidth=2, label="kinase site"];'
                )
            else:
                lines.append(
                    f'  {_q(drug)} -> {_q(s)} [arrowhead=tee, color="#cb181d", penwidth=2];'
                )
    lines.append("}")
    return "\n".join(lines) + "\n"
