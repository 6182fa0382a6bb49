"""``planner fetch``: the command (registered in :mod:`planner.cli.app` with ``app.command()(fetch)``).

Kept apart from ``cli.py`` so that osmnx and the download machinery load only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def fetch(
    out: Annotated[Path, typer.Argument(help="Folder to write the data and scenario.yaml into.")],
    *,
    boundary: Annotated[
        Path | None,
        typer.Option("--boundary", "-b", help="Study-area polygon file (GeoJSON, GPKG, SHP; any CRS)."),
    ] = None,
    admin_name: Annotated[
        str | None,
        typer.Option(
            "--admin-name",
            "-a",
            help="A Chinese admin unit resolved offline via cnmaps: 和硕县, or 省/市/区县.",
        ),
    ] = None,
    county_code: Annotated[
        str | None, typer.Option(help="6-digit county code (overrides the boundary's).")
    ] = None,
    county_name: Annotated[str | None, typer.Option(help="County name (overrides the boundary's).")] = None,
    iso3: Annotated[str, typer.Option(help="WorldPop country (ISO 3166 alpha-3).")] = "CHN",
    year: Annotated[int, typer.Option(help="WorldPop population year (2000–2020).")] = 2020,
    worldpop: Annotated[
        str,
        typer.Option(help="WorldPop product: auto (constrained when available), constrained, unconstrained."),
    ] = "auto",
    worldpop_download: Annotated[
        bool,
        typer.Option(
            "--worldpop-download",
            help="Download the whole country raster once (large) instead of reading only the area's window.",
        ),
    ] = False,
    buffer_m: Annotated[
        float, typer.Option(min=0, help="Margin (m) around the area for roads, POIs and the raster crop.")
    ] = 2000.0,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            help="Download cache (default: the planner's cache folder, see README; reused by later fetches)."
        ),
    ] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ignore the cache and download again.")] = False,
    overpass_url: Annotated[
        str,
        typer.Option(
            envvar="PLANNER_OVERPASS_URL", help="Overpass API base URL (a mirror may be faster from China)."
        ),
    ] = "https://overpass-api.de/api",
    worldpop_api: Annotated[
        str, typer.Option(envvar="PLANNER_WORLDPOP_API", help="WorldPop REST catalogue base URL.")
    ] = "https://hub.worldpop.org/rest/data/pop",
    standards: Annotated[
        str, typer.Option(help="Policy profile for the scenario written.")
    ] = "national-default",
    resolution_m: Annotated[
        float, typer.Option(min=10, help="Demand cell size (m) in the scenario.")
    ] = 200.0,
    timeout: Annotated[float, typer.Option(min=1, help="Per-request timeout in seconds.")] = 180.0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress, no report: for scripts.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Download OSM roads and POIs and a WorldPop raster for a study area; write a ready scenario.

    Give the area as --boundary FILE or --admin-name NAME. Roads come from OpenStreetMap (all
    travel modes, GraphML); post offices, courier shops (→ outlet) and parcel lockers (→ locker)
    become facilities/existing.csv; place=village/hamlet/town nodes become a village register with
    placeholder codes; the WorldPop raster of --iso3/--year is cropped to the area. Downloads are
    cached, so a second fetch of the same area is instant. Then: planner run OUT/scenario.yaml.
    Needs internet; offline, give your own files in a scenario instead.
    """
    from planner.cli.console import console, fail, out_console, setup_logging
    from planner.errors import PlannerError
    from planner.fetch import fetch_area

    setup_logging(verbose, quiet)
    if (boundary is None) == (admin_name is None):
        raise typer.BadParameter("give exactly one of --boundary FILE or --admin-name NAME")
    if worldpop not in ("auto", "constrained", "unconstrained"):
        raise typer.BadParameter("--worldpop must be auto, constrained or unconstrained")
    labels = {
        "boundary": "reading the study area 读取研究区",
        "population": "WorldPop population 人口栅格",
        "roads": "OSM roads 路网",
        "pois": "OSM facilities and places 设施与居民点",
        "writing": "writing the scenario 写出情景",
    }

    def progress(step: str) -> None:
        if not quiet:
            console.print(f"[bold]fetch[/] {labels.get(step, step)} …", highlight=False)

    try:
        summary = fetch_area(
            out,
            boundary=boundary,
            admin_name=admin_name,
            county_code=county_code,
            county_name=county_name,
            iso3=iso3,
            year=year,
            worldpop=worldpop,  # type: ignore[arg-type]
            worldpop_download=worldpop_download,
            buffer_m=buffer_m,
            cache_dir=cache_dir,
            refresh=refresh,
            overpass_url=overpass_url,
            worldpop_api=worldpop_api,
            standards=standards,
            resolution_m=resolution_m,
            timeout_s=timeout,
            progress=progress,
        )
    except PlannerError as exc:
        raise fail(exc) from exc
    if not quiet:
        for line in summary.lines():
            out_console.print(line, highlight=False)
        out_console.print(f"next 下一步: planner run {summary.scenario_path}", highlight=False)
