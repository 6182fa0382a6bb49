"""Geometry helpers of the synthetic county (:mod:`planner.synth`), all in projected metres.

The county outline, blue-noise point sets (dart throwing), Voronoi township cells, sector splits of
the seat, integer splits of a total, the reserved zones of remote hamlets, and the population raster
(Gaussian blobs renormalised inside the county so the raster total equals the register).
"""

from __future__ import annotations

import numpy as np
import shapely
from affine import Affine
from scipy.spatial import cKDTree


def boundary(rng: np.random.Generator, centre: np.ndarray, extent_m: float) -> shapely.Polygon:
    """An irregular, squarish county outline (superellipse with random harmonics)."""
    theta = np.linspace(0.0, 2 * np.pi, 96, endpoint=False)
    p = 3.0
    base = 1.0 / (np.abs(np.cos(theta)) ** p + np.abs(np.sin(theta)) ** p) ** (1.0 / p)
    wobble = np.zeros_like(theta)
    for k in (2, 3, 5, 7, 11):
        wobble += rng.normal(0.0, 0.045 / np.sqrt(k)) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    wobble += rng.normal(0.0, 0.008, theta.size)
    r = extent_m / 2.0 * base * (1.0 + wobble)
    ring = np.column_stack([centre[0] + r * np.cos(theta), centre[1] + r * np.sin(theta)])
    return shapely.make_valid(shapely.Polygon(np.round(ring, 1)))


def dart(
    rng: np.random.Generator,
    region: shapely.Geometry,
    n: int,
    *,
    spacing: float,
    avoid: np.ndarray,
    avoid_r: np.ndarray,
) -> np.ndarray:
    """Up to ``n`` points in ``region`` at least ``spacing`` apart and outside the ``avoid`` discs.

    Dart throwing with a hash grid; the spacing shrinks by 10 % whenever a round of darts stalls.
    """
    minx, miny, maxx, maxy = region.bounds
    shapely.prepare(region)
    tree = cKDTree(avoid) if len(avoid) else None
    out: list[tuple[float, float]] = []
    while len(out) < n:
        cell = spacing / np.sqrt(2.0)
        buckets: dict[tuple[int, int], tuple[float, float]] = {}
        for q in out:
            buckets[(int(q[0] // cell), int(q[1] // cell))] = q
        darts = np.column_stack([rng.uniform(minx, maxx, 40 * n), rng.uniform(miny, maxy, 40 * n)])
        darts = darts[shapely.contains_xy(region, darts[:, 0], darts[:, 1])]
        if tree is not None and len(darts):
            d, k = tree.query(darts)
            darts = darts[d > avoid_r[k]]
        added = 0
        for x, y in darts:
            if _clear(buckets, x, y, cell=cell, spacing=spacing):
                buckets[(int(x // cell), int(y // cell))] = (x, y)
                out.append((x, y))
                added += 1
                if len(out) == n:
                    break
        if added < 0.1 * (n - len(out) + added):
            spacing *= 0.9
    return np.asarray(out, dtype=float).reshape(-1, 2)


def _clear(
    buckets: dict[tuple[int, int], tuple[float, float]], x: float, y: float, *, cell: float, spacing: float
) -> bool:
    """Whether no point of the hash grid (cells of side ``cell``) lies within ``spacing`` of ``(x, y)``."""
    ci, cj = int(x // cell), int(y // cell)
    for di in (-2, -1, 0, 1, 2):
        for dj in (-2, -1, 0, 1, 2):
            hit = buckets.get((ci + di, cj + dj))
            if hit is not None and (hit[0] - x) ** 2 + (hit[1] - y) ** 2 < spacing**2:
                return False
    return True


def voronoi_cells(points: np.ndarray, region: shapely.Polygon) -> list[shapely.Geometry]:
    """Voronoi cells of ``points`` clipped to ``region``, in the order of ``points``."""
    vor = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=region)
    polys = list(shapely.get_parts(vor))
    tree = shapely.STRtree(polys)
    cells: list[shapely.Geometry] = []
    for pt in shapely.points(points):
        hits = [i for i in tree.query(pt) if polys[i].contains(pt)]
        cells.append(shapely.intersection(polys[hits[0]], region))
    return cells


def wedges(centre: np.ndarray, n: int, radius: float) -> list[shapely.Polygon]:
    """``n`` equal angular sectors around ``centre`` (the first starts due north, going west)."""
    out = []
    for k in range(n):
        a = np.linspace(np.pi / 2 + 2 * np.pi * k / n, np.pi / 2 + 2 * np.pi * (k + 1) / n, 32)
        ring = np.vstack([centre, centre + radius * np.column_stack([np.cos(a), np.sin(a)])])
        out.append(shapely.Polygon(ring))
    return out


def split_int(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total`` (largest remainder)."""
    raw = total * weights / weights.sum()
    base = np.floor(raw).astype(np.int64)
    rest = total - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return base


def remote_zones(
    rng: np.random.Generator,
    boundary: shapely.Polygon,
    centres: np.ndarray,
    corridors: shapely.Geometry,
    n: int,
) -> np.ndarray:
    """Points near the county edge far from every centre and main-road corridor (for remote hamlets)."""
    if n == 0:
        return np.empty((0, 2))
    ring = boundary.buffer(-1_500.0).exterior
    pts = shapely.get_coordinates(shapely.segmentize(ring, 250.0))
    d_c = cKDTree(centres).query(pts)[0]
    d_r = shapely.distance(shapely.points(pts), corridors)
    score = np.minimum(d_c, d_r) + rng.uniform(0.0, 200.0, len(pts))
    chosen: list[np.ndarray] = []
    for i in np.argsort(-score, kind="stable"):
        if all(np.hypot(*(pts[i] - c)) > 6_000.0 for c in chosen):
            chosen.append(pts[i])
        if len(chosen) == n:
            break
    return np.asarray(chosen)


def population_raster(
    boundary: shapely.Polygon,
    xy: np.ndarray,
    pop: np.ndarray,
    sigma: np.ndarray,
    res: float,
) -> tuple[np.ndarray, Affine]:
    """People as Gaussian blobs around each settlement, renormalised inside the county.

    Each settlement's blob is cut to the county and rescaled so the settlement's people all land
    in the raster: the float64 total equals ``pop.sum()``; the float32 cast moves it by well under 1.
    """
    minx, miny, maxx, maxy = boundary.bounds
    x0 = np.floor(minx / res) * res - res
    y1 = np.ceil(maxy / res) * res + res
    ncol = int(np.ceil((maxx + res - x0) / res))
    nrow = int(np.ceil((y1 - (miny - res)) / res))
    transform = Affine(res, 0.0, x0, 0.0, -res, y1)
    cx = x0 + (np.arange(ncol) + 0.5) * res
    cy = y1 - (np.arange(nrow) + 0.5) * res
    inside = shapely.contains_xy(boundary, cx[None, :], cy[:, None])
    acc = np.zeros((nrow, ncol), dtype=np.float64)
    for (x, y), pp, s in zip(xy, pop, sigma, strict=True):
        reach = 2.0 * s  # blobs are cut at 2 sigma: a village's edge is sharp, not a faint haze
        c0 = max(0, int((x - reach - x0) // res))
        c1 = min(ncol, int((x + reach - x0) // res) + 1)
        r0 = max(0, int((y1 - (y + reach)) // res))
        r1 = min(nrow, int((y1 - (y - reach)) // res) + 1)
        dx = cx[c0:c1][None, :] - x
        dy = cy[r0:r1][:, None] - y
        d2 = dx**2 + dy**2
        w = np.exp(-d2 / (2 * s * s)) * (inside[r0:r1, c0:c1] & (d2 <= reach * reach))
        total = w.sum()
        if total <= 0:  # settlement on the very edge: put everyone in the nearest inside cell
            rr, cc = np.nonzero(inside)
            k = int(np.argmin((cx[cc] - x) ** 2 + (cy[rr] - y) ** 2))
            acc[rr[k], cc[k]] += pp
        else:
            acc[r0:r1, c0:c1] += pp * w / total
    out = acc.astype(np.float32)
    out[~inside] = -1.0
    return out, transform
