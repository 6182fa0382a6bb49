"""On-disk cache of the expensive artefacts: mode networks and coverage matrices.

Entries are keyed by a hash of the input file bytes (road files) or of the input arrays (snapped
points, cut-offs) and every parameter that changes the result, plus :data:`CACHE_FORMAT` and the
planner version, so a stale entry is never reused. Files are plain ``.npz`` (no pickle) written
atomically; an unreadable entry is logged, deleted and recomputed.

Typical use in the pipeline::

    cache = Cache(scenario_dir / ".cache" / "planner")
    nets, hit = cache.mode_networks([path], crs=work, modes=[walk, car], read_roads=lambda: read_roads(path))
    cover, hit = cache.coverage(nets["walk"], demand_snap, site_snap, max_distance_m=1000, max_time_s=600)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
import shapely
from pyproj import CRS

from planner.coverage import Direction, coverage_matrix
from planner.network import ModeNetwork, ModeSpec, Snap, build_mode_network

__all__ = ["CACHE_FORMAT", "DEFAULT_CACHE_DIR", "Cache", "file_digest", "params_digest"]

logger = logging.getLogger(__name__)

#: Bump when the stored layout or the meaning of a stored result changes.
CACHE_FORMAT = 2
#: Default cache folder, relative to the working directory.
DEFAULT_CACHE_DIR = Path(".cache") / "planner"

_digest_memo: dict[tuple[str, int, int], str] = {}


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("planner")
    except Exception:  # not installed (running from a source tree): the format number still guards
        return "source"


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (memoised per path, size and modification time)."""
    p = Path(path)
    st = p.stat()
    memo_key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    cached = _digest_memo.get(memo_key)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    _digest_memo[memo_key] = digest
    return digest


def _jsonable(value: Any, h: Any) -> Any:
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        h.update(str(arr.dtype).encode() + str(arr.shape).encode())
        h.update(arr.tobytes())
        return f"<array {arr.dtype} {arr.shape}>"
    if isinstance(value, ModeSpec):
        return json.loads(value.to_json())
    if isinstance(value, CRS):
        return value.to_wkt()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, h) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_jsonable(v, h) for v in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot hash a {type(value).__name__} into a cache key")


def params_digest(**params: Any) -> str:
    """A stable hash of keyword parameters (numbers, strings, arrays, modes, CRSs, nested lists/dicts)."""
    h = hashlib.sha256()
    text = json.dumps(_jsonable(params, h), sort_keys=True, ensure_ascii=False)
    h.update(text.encode())
    h.update(f"format={CACHE_FORMAT};planner={_version()}".encode())
    return h.hexdigest()[:32]


def _atomic_savez(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def _snap_params(snap: Snap) -> dict[str, Any]:
    return {
        "edge": snap.edge,
        "fraction": snap.fraction,
        "access_m": snap.access_m,
        "access_s": snap.access_s,
        "along": [snap.along_m, snap.along_fwd_s, snap.along_bwd_s],
        "network": snap.network_digest,
    }


class Cache:
    """A folder of cached networks and coverage matrices.

    Parameters
    ----------
    root
        The folder (created on first write); default ``.cache/planner`` in the working directory.
    enabled
        ``False`` computes everything and stores nothing (the hit flag is then always ``False``).
    """

    def __init__(self, root: str | Path | None = None, *, enabled: bool = True) -> None:
        self.root = Path(root) if root is not None else DEFAULT_CACHE_DIR
        self.enabled = enabled

    def _path(self, kind: str, key: str) -> Path:
        return self.root / f"{kind}-{key}.npz"

    def _load(self, path: Path) -> dict[str, np.ndarray] | None:
        if not (self.enabled and path.exists()):
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except Exception as exc:  # a truncated or foreign file: drop it and recompute
            logger.warning("cache: %s is unreadable (%s); recomputing", path, exc)
            path.unlink(missing_ok=True)
            return None

    # ------------------------------------------------------------------ networks
    def network_key(self, roads_files: Sequence[str | Path], *, crs: Any, mode: ModeSpec) -> str:
        """Key of a mode network: the road files' bytes, the work CRS and the mode."""
        return params_digest(
            kind="network",
            files=[file_digest(p) for p in roads_files],
            crs=CRS.from_user_input(crs).to_wkt(),
            mode=mode,
        )

    def load_network(self, key: str) -> ModeNetwork | None:
        """The cached network under ``key``, or ``None``."""
        z = self._load(self._path("network", key))
        if z is None:
            return None
        try:
            return _network_from_arrays(z)
        except Exception as exc:
            logger.warning("cache: network %s is unusable (%s); recomputing", key, exc)
            self._path("network", key).unlink(missing_ok=True)
            return None

    def save_network(self, key: str, net: ModeNetwork) -> Path | None:
        """Store a network under ``key``; returns the file (``None`` when disabled)."""
        if not self.enabled:
            return None
        path = self._path("network", key)
        _atomic_savez(path, _network_arrays(net))
        return path

    def mode_networks(
        self,
        roads_files: Sequence[str | Path],
        *,
        crs: Any,
        modes: Sequence[ModeSpec],
        read_roads: Callable[[], nx.MultiDiGraph],
    ) -> tuple[dict[str, ModeNetwork], bool]:
        """The networks of several modes, from the cache or built (roads read at most once).

        Parameters
        ----------
        roads_files
            The road files the graph is read from (their bytes key the cache).
        crs
            The work CRS.
        modes
            The travel modes.
        read_roads
            Reads the road graph; called only when some mode is not cached.

        Returns
        -------
        tuple
            ``({mode name: network}, all_from_cache)``.
        """
        nets: dict[str, ModeNetwork] = {}
        missing: list[tuple[ModeSpec, str]] = []
        for mode in modes:
            key = self.network_key(roads_files, crs=crs, mode=mode)
            net = self.load_network(key)
            if net is None:
                missing.append((mode, key))
            else:
                logger.info("cache: network[%s] loaded from %s", mode.name, self._path("network", key))
                nets[mode.name] = net
        if missing:
            roads = read_roads()
            for mode, key in missing:
                net = build_mode_network(roads, crs=crs, mode=mode)
                self.save_network(key, net)
                nets[mode.name] = net
        return {m.name: nets[m.name] for m in modes}, not missing

    # ------------------------------------------------------------------ coverage
    def coverage(
        self,
        net: ModeNetwork,
        demand: Snap,
        sites: Snap,
        *,
        max_distance_m: float | np.ndarray | None,
        max_time_s: float | np.ndarray | None,
        direction: Direction = "to_site",
    ) -> tuple[sp.csr_matrix, bool]:
        """:func:`planner.coverage.coverage_matrix`, cached; returns ``(matrix, from_cache)``."""
        key = params_digest(
            kind="coverage",
            network=net.digest,
            demand=_snap_params(demand),
            sites=_snap_params(sites),
            max_distance_m=max_distance_m,
            max_time_s=max_time_s,
            direction=direction,
        )
        path = self._path("coverage", key)
        z = self._load(path)
        if z is not None:
            try:
                mat = sp.csr_matrix(
                    (z["data"].astype(bool), z["indices"], z["indptr"]), shape=tuple(z["shape"].tolist())
                )
                logger.info("cache: coverage[%s] (%d pairs) loaded from %s", net.mode.name, mat.nnz, path)
                return mat, True
            except Exception as exc:
                logger.warning("cache: coverage %s is unusable (%s); recomputing", path, exc)
                path.unlink(missing_ok=True)
        mat = coverage_matrix(
            net, demand, sites, max_distance_m=max_distance_m, max_time_s=max_time_s, direction=direction
        )
        if self.enabled:
            _atomic_savez(
                path,
                {
                    "data": mat.data,
                    "indices": mat.indices,
                    "indptr": mat.indptr,
                    "shape": np.array(mat.shape),
                },
            )
        return mat, False
