"""Mode networks on disk: :class:`~planner.network.graph.ModeNetwork` arrays in the planner's cache.

A network is keyed by the road files' bytes, the work CRS and the travel mode
(:func:`planner.store.params_digest`), so a second run of the same scenario loads its networks
instead of reading and building them again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
import shapely
from pyproj import CRS

from planner.inputs.roadtable import RoadTable
from planner.network.graph import ModeNetwork, build_mode_networks
from planner.network.modes import ModeSpec
from planner.store import DiskStore, file_digest, params_digest

__all__ = ["load_network", "mode_networks", "network_key", "save_network"]

logger = logging.getLogger(__name__)

KIND = "network"


#: Files that belong to a shapefile: their bytes key its networks too.
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def _key_files(roads_files: Sequence[str | Path]) -> list[Path]:
    """The files whose bytes make the road network: a shapefile with its sidecars."""
    out: list[Path] = []
    for f in map(Path, roads_files):
        if f.suffix.lower() == ".shp":
            out.extend(p for p in (f.with_suffix(s) for s in _SHAPEFILE_PARTS) if p.exists())
        else:
            out.append(f)
    return out


def network_key(
    roads_files: Sequence[str | Path], *, crs: Any, mode: ModeSpec, options: Mapping[str, Any] | None = None
) -> str:
    """Key of a mode network: the road files' bytes, the reader's options, the work CRS and the mode."""
    return params_digest(
        kind=KIND,
        files=[file_digest(p) for p in _key_files(roads_files)],
        options=dict(sorted((options or {}).items())),
        crs=CRS.from_user_input(crs).to_wkt(),
        mode=mode,
    )


def _network_arrays(net: ModeNetwork) -> dict[str, np.ndarray]:
    coords, which = shapely.get_coordinates(net.edge_geometry, return_index=True)
    meta = {
        "mode": net.mode.to_json(),
        "crs": net.crs.to_wkt(),
        "nodes_in": net.nodes_in,
        "edges_in": net.edges_in,
        "nodes_dropped": net.nodes_dropped,
        "edges_dropped": net.edges_dropped,
        "edges_excluded": dict(net.edges_excluded),
        "stretch": net.stretch,
        "nodes_merged": net.nodes_merged,
    }
    return {
        "meta": np.array(json.dumps(meta, ensure_ascii=False)),
        "node_ids": net.node_ids,
        "node_xy": net.node_xy,
        "length_indptr": net.length.indptr,
        "length_indices": net.length.indices,
        "length_data": net.length.data,
        "time_indptr": net.time.indptr,
        "time_indices": net.time.indices,
        "time_data": net.time.data,
        "edge_u": net.edge_u,
        "edge_v": net.edge_v,
        "edge_length_m": net.edge_length_m,
        "edge_fwd_s": net.edge_fwd_s,
        "edge_bwd_s": net.edge_bwd_s,
        "geom_coords": coords,
        "geom_index": which,
        "bp_ptr": net.bp_ptr,
        "bp_geom": net.bp_geom,
        "bp_len": net.bp_len,
        "bp_fwd": net.bp_fwd,
        "bp_bwd": net.bp_bwd,
    }


def _network_from_arrays(z: Mapping[str, np.ndarray]) -> ModeNetwork:
    meta = json.loads(str(z["meta"]))
    n = int(z["node_xy"].shape[0])
    length = sp.csr_matrix((z["length_data"], z["length_indices"], z["length_indptr"]), shape=(n, n))
    time = sp.csr_matrix((z["time_data"], z["time_indices"], z["time_indptr"]), shape=(n, n))
    n_edges = int(z["edge_u"].shape[0])
    geoms = shapely.linestrings(z["geom_coords"], indices=z["geom_index"])
    if geoms.shape[0] != n_edges:
        raise ValueError("stored geometries do not match the stored edges")
    return ModeNetwork(
        mode=ModeSpec.from_json(meta["mode"]),
        crs=CRS.from_wkt(meta["crs"]),
        node_ids=z["node_ids"],
        node_xy=z["node_xy"],
        length=length,
        time=time,
        edge_u=z["edge_u"],
        edge_v=z["edge_v"],
        edge_length_m=z["edge_length_m"],
        edge_fwd_s=z["edge_fwd_s"],
        edge_bwd_s=z["edge_bwd_s"],
        edge_geometry=np.asarray(geoms, dtype=object),
        bp_ptr=z["bp_ptr"],
        bp_geom=z["bp_geom"],
        bp_len=z["bp_len"],
        bp_fwd=z["bp_fwd"],
        bp_bwd=z["bp_bwd"],
        nodes_in=int(meta["nodes_in"]),
        edges_in=int(meta["edges_in"]),
        nodes_dropped=int(meta["nodes_dropped"]),
        edges_dropped=int(meta["edges_dropped"]),
        edges_excluded=dict(meta["edges_excluded"]),
        stretch=float(meta["stretch"]),
        nodes_merged=int(meta["nodes_merged"]),
    )


def load_network(store: DiskStore, key: str) -> ModeNetwork | None:
    """The cached network under ``key``, or ``None``."""
    z = store.load(KIND, key)
    if z is None:
        return None
    try:
        return _network_from_arrays(z)
    except Exception as exc:  # an entry of an older layout: drop it and rebuild
        logger.warning("cache: network %s is unusable (%s); recomputing", key, exc)
        store.discard(KIND, key)
        return None


def save_network(store: DiskStore, key: str, net: ModeNetwork) -> Path | None:
    """Store a network under ``key``; returns the file (``None`` when the store is disabled)."""
    return store.save(KIND, key, _network_arrays(net))


def mode_networks(
    store: DiskStore,
    roads_files: Sequence[str | Path],
    *,
    crs: Any,
    modes: Sequence[ModeSpec],
    read_roads: Callable[[], RoadTable | nx.MultiDiGraph],
    options: Mapping[str, Any] | None = None,
) -> tuple[dict[str, ModeNetwork], bool]:
    """The networks of several modes, from the cache or built (roads read at most once).

    Parameters
    ----------
    store
        The cache.
    roads_files
        The road files the graph is read from (their bytes key the cache).
    crs
        The work CRS.
    modes
        The travel modes.
    read_roads
        Reads the road table (:func:`planner.inputs.roads.read_road_table`) or an osmnx graph; called
        only when some mode is not cached, once for all the modes.
    options
        The reader's options that change the network (a centreline layer's class column, class map,
        crossing rule, …); they key the cache with the files.

    Returns
    -------
    tuple
        ``({mode name: network}, all_from_cache)``.
    """
    nets: dict[str, ModeNetwork] = {}
    missing: list[tuple[ModeSpec, str]] = []
    for mode in modes:
        key = network_key(roads_files, crs=crs, mode=mode, options=options)
        net = load_network(store, key)
        if net is None:
            missing.append((mode, key))
        else:
            logger.debug("cache: network[%s] loaded from %s", mode.name, store.path(KIND, key))
            nets[mode.name] = net
    if missing:
        roads = read_roads()
        built = build_mode_networks(roads, crs=crs, modes=[mode for mode, _ in missing])
        for mode, key in missing:
            save_network(store, key, built[mode.name])
            nets[mode.name] = built[mode.name]
    return {m.name: nets[m.name] for m in modes}, not missing
