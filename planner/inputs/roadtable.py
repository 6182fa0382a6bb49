"""The road table: a road network as flat arrays (nodes, directed edges, classes, geometry), WGS-84.

Every road reader returns a :class:`RoadTable`; :func:`planner.network.build_mode_network` builds each
travel mode from it without a networkx graph in between. Its columns follow the osmnx conventions
(one row per *directed* edge, as in an osmnx ``MultiDiGraph``: a two-way street is two rows, a
one-way street one row with ``oneway = 1``), so a table and an osmnx graph convert both ways
(:func:`table_from_graph`, :meth:`RoadTable.to_networkx`) and give the same networks.

Edge classes are stored once per distinct *class tuple* (``kinds``): an osmnx edge merged from
several ways carries a list of ``highway`` values, and its speed is the mean of theirs. A tuple
``("ferry",)`` marks a ferry route (no ``highway``, ``route=ferry``), ``("",)`` an untagged way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely

__all__ = [
    "FERRY_CLASS",
    "UNKNOWN_CLASS",
    "RoadTable",
    "as_list",
    "edge_classes",
    "parse_maxspeed",
    "parse_oneway",
    "table_from_graph",
]

FERRY_CLASS = "ferry"
UNKNOWN_CLASS = ""


# ---------------------------------------------------------------------------------------------
# Tag parsing (OSM conventions; the values osmnx and GraphML leave behind)
# ---------------------------------------------------------------------------------------------


def as_list(value: Any) -> list[str]:
    """A tag value as a list of strings: lists, stringified lists (GraphML), scalars; NaN/None → []."""
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    if isinstance(value, list | tuple | set):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].replace("'", "").replace('"', "")
        return [t.strip() for t in text.split(",") if t.strip()]
    return [text] if text else []


_SPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)
_UNIT_FACTOR = {"mph": 1.609344, "knots": 1.852}


def parse_maxspeed(value: Any) -> float | None:
    """Parse an OSM ``maxspeed`` value into km/h.

    Accepts numbers, ``"60"``, ``"60 mph"``, ``"30 knots"``, ``"50;60"`` and lists of these (osmnx
    keeps a list when it merges ways); several values give their mean (osmnx's convention). Symbolic
    values (``"CN:urban"``, ``"none"``, ``"signals"``, ``"walk"``) give ``None``.
    """
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        v = float(value)
        return v if math.isfinite(v) and v > 0 else None
    parts = [p for item in (value if isinstance(value, list | tuple) else [value]) for p in as_list(item)]
    parts = [q for p in parts for q in re.split(r"[;|]", str(p))]
    speeds: list[float] = []
    for part in parts:
        m = _SPEED_RE.match(part)
        if m:
            v = float(m.group(1)) * _UNIT_FACTOR.get((m.group(2) or "").lower(), 1.0)
            if v > 0:
                speeds.append(v)
    return sum(speeds) / len(speeds) if speeds else None


def parse_oneway(value: Any) -> int:
    """+1 one-way along the edge, -1 one-way against it, 0 two-way (OSM ``oneway`` values, lists)."""
    values = value if isinstance(value, list | tuple) else [value]
    result = 0
    for v in values:
        if isinstance(v, bool | np.bool_):
            result = 1 if v else result
            continue
        text = str(v).strip().lower()
        if text in ("yes", "true", "1"):
            result = 1
        elif text == "-1" and result == 0:
            result = -1
    return result


def edge_classes(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The class tuple of an edge's attributes: its ``highway`` values, else ferry or unknown."""
    classes = as_list(data.get("highway"))
    if classes:
        return tuple(classes)
    is_ferry = FERRY_CLASS in as_list(data.get("route")) or bool(as_list(data.get("ferry")))
    return (FERRY_CLASS if is_ferry else UNKNOWN_CLASS,)


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoadTable:
    """A road network as arrays, WGS-84 (lon/lat degrees).

    Attributes
    ----------
    node_id
        Node ids (``int64`` when every id is an integer, else strings); node ``i`` is ``node_id[i]``.
    x, y
        Node longitude and latitude.
    u, v
        Node indices of each directed edge.
    length
        Edge length in metres (``nan`` where missing or unreadable: refused when the network is built).
    kind
        Index into ``kinds`` per edge.
    kinds
        The distinct class tuples (``highway`` values; ``("ferry",)``, ``("",)`` when untagged).
    oneway
        ``+1`` one-way along ``u → v``, ``-1`` against, ``0`` two-way (``int8``).
    maxspeed
        Tagged speed limit in km/h (``nan`` when untagged or symbolic).
    geom_ptr, geom_xy
        Edge ``e``'s drawn line is ``geom_xy[geom_ptr[e]:geom_ptr[e + 1]]`` (lon/lat); an empty range
        means a straight line between its nodes.
    name
        Street name per edge (``""`` when unnamed).
    osmid
        The way each edge comes from, as the source has it (an OSM id or list of ids, GraphML text, a
        layer's FID; ``None`` when unknown): kept for the osmnx graph of :meth:`to_networkx`.
    crs
        The CRS of ``x``/``y`` and ``geom_xy`` (readers always return WGS-84; a table made from a
        projected osmnx graph keeps the graph's CRS).
    """

    node_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    kind: np.ndarray
    kinds: tuple[tuple[str, ...], ...]
    oneway: np.ndarray
    maxspeed: np.ndarray
    geom_ptr: np.ndarray
    geom_xy: np.ndarray
    name: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    osmid: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    crs: Any = "epsg:4326"

    def __post_init__(self) -> None:
        if self.name.shape[0] != self.u.shape[0]:
            object.__setattr__(self, "name", np.full(self.u.shape[0], "", dtype=object))
        if self.osmid.shape[0] != self.u.shape[0]:
            object.__setattr__(self, "osmid", np.full(self.u.shape[0], None, dtype=object))

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.x.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.u.shape[0])

    def labels(self) -> list[str]:
        """The class label of each kind: its class, or the sorted distinct classes joined by ``+``."""
        return [k[0] if len(k) == 1 else "+".join(sorted(set(k))) for k in self.kinds]

    def geometries(self, edges: np.ndarray | None = None) -> np.ndarray:
        """Drawn LineStrings (lon/lat) of ``edges`` (all by default); ``None`` where straight."""
        idx = np.arange(self.n_edges) if edges is None else np.asarray(edges, dtype=np.int64)
        out = np.full(idx.size, None, dtype=object)
        lo, hi = self.geom_ptr[idx], self.geom_ptr[idx + 1]
        has = hi - lo >= 2
        if has.any():
            counts = (hi - lo)[has]
            take = (
                np.repeat(lo[has], counts)
                + np.arange(int(counts.sum()))
                - np.repeat(np.cumsum(counts) - counts, counts)
            )
            which = np.repeat(np.arange(int(has.sum())), counts)
            out[has] = shapely.linestrings(self.geom_xy[take], indices=which)
        return out

    def subset_nodes(self, keep: np.ndarray) -> RoadTable:
        """The table restricted to the nodes ``keep`` (boolean) and the edges between them, in order."""
        new_index = np.full(self.n_nodes, -1, dtype=np.int64)
        new_index[keep] = np.arange(int(keep.sum()))
        e_keep = keep[self.u] & keep[self.v]
        return self.subset_edges(e_keep, node_keep=keep, new_index=new_index)

    def subset_edges(
        self, e_keep: np.ndarray, *, node_keep: np.ndarray | None = None, new_index: np.ndarray | None = None
    ) -> RoadTable:
        """The edges ``e_keep`` (boolean), with every node (or ``node_keep``), order kept."""
        if node_keep is None or new_index is None:
            node_keep = np.ones(self.n_nodes, dtype=bool)
            new_index = np.arange(self.n_nodes)
        lo, hi = self.geom_ptr[:-1][e_keep], self.geom_ptr[1:][e_keep]
        counts = hi - lo
        take = (
            np.repeat(lo, counts)
            + np.arange(int(counts.sum()))
            - np.repeat(np.cumsum(counts) - counts, counts)
        )
        return replace(
            self,
            node_id=self.node_id[node_keep],
            x=self.x[node_keep],
            y=self.y[node_keep],
            u=new_index[self.u[e_keep]],
            v=new_index[self.v[e_keep]],
            length=self.length[e_keep],
            kind=self.kind[e_keep],
            oneway=self.oneway[e_keep],
            maxspeed=self.maxspeed[e_keep],
            geom_ptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            geom_xy=self.geom_xy[take],
            name=self.name[e_keep],
            osmid=self.osmid[e_keep],
        )

    def to_networkx(self) -> Any:
        """An osmnx-style ``MultiDiGraph`` (WGS-84) with the table's nodes and edges, in order."""
        import networkx as nx

        G = nx.MultiDiGraph(crs=self.crs)
        ids = self.node_id.tolist()
        G.add_nodes_from(
            (n, {"x": float(a), "y": float(b)}) for n, a, b in zip(ids, self.x, self.y, strict=True)
        )
        geoms = self.geometries()
        for e in range(self.n_edges):
            classes = self.kinds[int(self.kind[e])]
            data: dict[str, Any] = {"length": float(self.length[e]), "oneway": bool(self.oneway[e] != 0)}
            if classes == (FERRY_CLASS,):
                data["route"] = FERRY_CLASS
            elif classes != (UNKNOWN_CLASS,):
                data["highway"] = classes[0] if len(classes) == 1 else list(classes)
            if math.isfinite(self.maxspeed[e]):
                data["maxspeed"] = f"{self.maxspeed[e]:g}"
            if self.name[e]:
                data["name"] = self.name[e]
            if self.osmid[e] is not None:
                data["osmid"] = _osmid(self.osmid[e])
            if geoms[e] is not None:
                data["geometry"] = geoms[e]
            G.add_edge(ids[int(self.u[e])], ids[int(self.v[e])], **data)
        return G


def _osmid(value: Any) -> Any:
    """An osmid as osmnx keeps it: an integer, or a list of integers for merged ways."""
    if isinstance(value, str):
        ids = as_list(value)
        try:
            parsed = [int(i) for i in ids]
        except ValueError:
            return value
        return parsed[0] if len(parsed) == 1 and not value.strip().startswith("[") else parsed
    return value


def _kind_codes(keys: Iterable[tuple[str, ...]]) -> tuple[np.ndarray, tuple[tuple[str, ...], ...]]:
    """Codes of the class tuples and the distinct tuples, in order of first appearance."""
    index: dict[tuple[str, ...], int] = {}
    codes = [index.setdefault(k, len(index)) for k in keys]
    return np.asarray(codes, dtype=np.int32), tuple(index)


def maxspeed_array(values: Sequence[Any]) -> np.ndarray:
    """Parsed ``maxspeed`` values in km/h (``nan`` where absent or symbolic), parsed once per value."""
    cache: dict[str, float] = {}
    out = np.empty(len(values))
    for i, value in enumerate(values):
        key = str(value)
        if key not in cache:
            parsed = parse_maxspeed(value)
            cache[key] = math.nan if parsed is None else parsed
        out[i] = cache[key]
    return out


def node_id_array(ids: list[Any]) -> np.ndarray:
    """Node ids as ``int64`` when every one is an integer, else as strings."""
    if all(isinstance(i, int | np.integer) and not isinstance(i, bool) for i in ids):
        return np.asarray(ids, dtype=np.int64)
    return np.asarray([str(i) for i in ids], dtype=str)


def _float_or_nan(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def table_from_graph(G: Any) -> RoadTable:
    """A :class:`RoadTable` from an osmnx-style ``MultiDiGraph`` (edges in the graph's order).

    Node ``x``/``y`` must be lon/lat; edges carry ``length``, ``highway`` (or ``route=ferry``),
    ``oneway``, ``maxspeed``, optional ``geometry`` (LineString or WKT) and ``name``. Nodes without
    numeric coordinates get ``nan`` (refused when a network is built).
    """
    nodes = list(G.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    x = np.array([_float_or_nan(d.get("x")) for _, d in G.nodes(data=True)], dtype=float)
    y = np.array([_float_or_nan(d.get("y")) for _, d in G.nodes(data=True)], dtype=float)
    edges = list(G.edges(data=True))
    kind, kinds = _kind_codes(edge_classes(d) for _, _, d in edges)
    geom_xy: list[np.ndarray] = []
    counts = np.zeros(len(edges), dtype=np.int64)
    for e, (_, _, d) in enumerate(edges):
        line = _as_line(d.get("geometry"))
        if line is not None:
            coords = shapely.get_coordinates(line)
            geom_xy.append(coords)
            counts[e] = coords.shape[0]
    return RoadTable(
        node_id=node_id_array(nodes),
        x=x,
        y=y,
        u=np.array([index[a] for a, _, _ in edges], dtype=np.int64),
        v=np.array([index[b] for _, b, _ in edges], dtype=np.int64),
        length=np.array([_float_or_nan(d.get("length")) for _, _, d in edges], dtype=float),
        kind=kind,
        kinds=kinds,
        oneway=np.array([parse_oneway(d.get("oneway", False)) for _, _, d in edges], dtype=np.int8),
        maxspeed=maxspeed_array([d.get("maxspeed") for _, _, d in edges]),
        geom_ptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        geom_xy=np.concatenate(geom_xy) if geom_xy else np.empty((0, 2)),
        name=np.array([_name(d.get("name")) for _, _, d in edges], dtype=object),
        osmid=_objects([d.get("osmid") for _, _, d in edges]),
        crs=G.graph.get("crs", "epsg:4326"),
    )


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _name(value: Any) -> str:
    names = as_list(value)
    return names[0] if len(names) == 1 else "; ".join(names)


def _as_line(geom: Any) -> shapely.LineString | None:
    """A non-empty LineString from a shapely geometry or WKT text (plain GraphML), else ``None``."""
    if isinstance(geom, str):
        try:
            geom = shapely.from_wkt(geom)
        except shapely.errors.GEOSException:
            return None
    if isinstance(geom, shapely.LineString) and not geom.is_empty:
        return geom
    return None
