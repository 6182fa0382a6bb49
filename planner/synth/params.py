"""The parameters of a synthetic county (:class:`SynthParams`) and their checks."""

from __future__ import annotations

from dataclasses import dataclass

from planner.errors import InputDataError, Problem
from planner.synth import names


@dataclass(frozen=True)
class SynthParams:
    """Parameters of the synthetic county; the defaults make the committed demo.

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; the same parameters give byte-identical files.
    extent_km
        Approximate width and height of the county.
    n_townships
        Towns and townships (镇 + 乡), not counting the seat's sub-districts. Any number: beyond
        ``townships_per_county`` the area is split into several synthetic counties (see below).
    n_xiang
        How many of ``n_townships`` are 乡 (the rest are 镇); the farthest from the seat.
    n_subdistricts
        Sub-districts (街道) of the county seat.
    n_villages
        Administrative villages (村委会) in all, including 乡 centres and remote hamlets.
    n_remote
        Hamlets placed more than 1 km from any road.
    seat_population
        People in the seat's communities.
    communities_per_subdistrict
        Communities (社区居委会) per sub-district.
    town_population
        Range of a town-centre community's population.
    village_population_median
        Median population of an administrative village (log-normal, clipped to 250..2,500).
    seat_street_spacing_m, town_street_spacing_m, village_lane_spacing_m
        Street grid spacings.
    town_grid_half
        A town grid spans ``-half..half`` blocks each way (乡 centres use one less).
    village_lanes
        Extra lane-grid rows and columns per village (0 makes a village a single cross of lanes).
    rural_node_spacing_m
        Node spacing along rural roads (smaller gives more nodes, as unsimplified OSM data does).
    track_share
        Share of neighbouring village pairs joined by a farm track.
    station_share
        Share of administrative villages with an existing village station.
    seat_candidate_spacing_m, rural_candidate_spacing_m, locker_candidate_spacing_m
        Thinning spacings of outlet candidates (seat / elsewhere) and of locker candidates.
    n_park_candidates
        Park candidate sites on the trunk and primary roads near the seat.
    candidate_cost
        Write a ``cost`` column in the candidates (otherwise the scenario's cost table applies).
    resolution_m
        Population raster resolution.
    centre_lon, centre_lat
        Approximate centre of the county (WGS-84).
    county_code, county_name
        The county's 6-digit code and name.
    total_population
        People in the whole area. ``None`` keeps the sizes the other parameters give; a number
        rescales every settlement by the same factor (largest remainder, so the register sums to it
        exactly) after the layout is made, and the raster and households follow the rescaled register.
        The layout (which villages get lane grids and tertiary links) follows the unscaled sizes.
    townships_per_county
        At most this many towns and townships (1..100) per county code. The NBS township part of a
        code has room for 100 镇 (100–199) and 200 乡 (200–399) per county, so a larger area is split
        into ``ceil(n_townships / townships_per_county)`` synthetic counties: angular sectors around
        the seat of near-equal township counts, coded ``county_code``, ``county_code + 1``, ... (the
        last two digits, which must stay within 01..99), each numbering its 镇 from 100 and its 乡 from
        200 by distance from the seat. The seat's sub-districts belong to the first county; county
        ``j + 1`` is named like ``county_name`` with the number (示范县, 示范二县, ...).
    """

    seed: int = 7
    extent_km: float = 30.0
    n_townships: int = 8
    n_xiang: int = 2
    n_subdistricts: int = 2
    n_villages: int = 140
    n_remote: int = 2
    seat_population: int = 75_000
    communities_per_subdistrict: int = 6
    town_population: tuple[int, int] = (3_000, 8_000)
    village_population_median: float = 850.0
    seat_street_spacing_m: float = 220.0
    town_street_spacing_m: float = 160.0
    village_lane_spacing_m: float = 130.0
    town_grid_half: int = 2
    village_lanes: int = 0
    rural_node_spacing_m: float = 450.0
    track_share: float = 0.25
    station_share: float = 0.75
    seat_candidate_spacing_m: float = 400.0
    rural_candidate_spacing_m: float = 1000.0
    locker_candidate_spacing_m: float = 300.0
    n_park_candidates: int = 2
    candidate_cost: bool = False
    resolution_m: float = 100.0
    centre_lon: float = 116.6
    centre_lat: float = 36.45
    county_code: str = "379901"
    county_name: str = "示范县"
    total_population: int | None = None
    townships_per_county: int = 100

    def __post_init__(self) -> None:
        problems = _check_params(self)
        if problems:
            raise InputDataError("invalid synthetic-county parameters", problems=problems)

    @property
    def n_counties(self) -> int:
        """How many county codes the townships need (``ceil(n_townships / townships_per_county)``)."""
        return -(-self.n_townships // self.townships_per_county)

    @property
    def counties(self) -> list[tuple[str, str]]:
        """``(code, name)`` of each synthetic county: ``county_code`` and ``county_name`` first."""
        head, last = self.county_code[:4], int(self.county_code[4:])
        return [
            (f"{head}{last + j:02d}", names.numbered_county(self.county_name, j + 1))
            for j in range(self.n_counties)
        ]

    @classmethod
    def benchmark(cls, *, seed: int = 1) -> SynthParams:
        """A large county for benchmarks: ~100k road nodes, ~20k populated 200 m cells, ~2k candidates."""
        return cls(
            seed=seed,
            extent_km=70.0,
            n_townships=24,
            n_xiang=4,
            n_subdistricts=4,
            n_villages=1_400,
            n_remote=3,
            seat_population=320_000,
            communities_per_subdistrict=10,
            seat_street_spacing_m=110.0,
            town_street_spacing_m=110.0,
            village_lane_spacing_m=70.0,
            town_grid_half=5,
            village_lanes=3,
            rural_node_spacing_m=90.0,
            track_share=0.35,
            seat_candidate_spacing_m=350.0,
            rural_candidate_spacing_m=2_000.0,
            locker_candidate_spacing_m=450.0,
            n_park_candidates=3,
        )


#: Plain ranges of parameters: name -> (lowest, highest, unit in the message, fix).
_RANGES: dict[str, tuple[float, float, str, str]] = {
    "extent_km": (5.0, 200.0, " km", "use e.g. 30"),
    "n_subdistricts": (1, 9, "", "use e.g. 2"),
    "communities_per_subdistrict": (1, 150, "", "use e.g. 6"),
    "n_remote": (0, 5, "", "use 1..3"),
    "seat_street_spacing_m": (40.0, 1_000.0, " m", "use e.g. 150"),
    "town_street_spacing_m": (40.0, 1_000.0, " m", "use e.g. 150"),
    "village_lane_spacing_m": (40.0, 1_000.0, " m", "use e.g. 150"),
    "rural_node_spacing_m": (50.0, 5_000.0, " m", "use e.g. 700"),
    "track_share": (0.0, 1.0, " (a share)", "use e.g. 0.25"),
    "station_share": (0.0, 1.0, " (a share)", "use e.g. 0.75"),
    "resolution_m": (10.0, 1_000.0, " m", "use 100"),
    "n_park_candidates": (0, 10, "", "use 1..3"),
    "townships_per_county": (1, 100, "", "use e.g. 20 (a real county has about 10-20)"),
}


def _check_params(p: SynthParams) -> list[Problem]:
    """Every problem of ``p`` (empty when the parameters make a county)."""
    out = [
        Problem(
            f"{name} must be {lo:g}..{hi:g}{unit}, got {getattr(p, name)}",
            location=f"SynthParams.{name}",
            fix=fix,
        )
        for name, (lo, hi, unit, fix) in _RANGES.items()
        if not lo <= getattr(p, name) <= hi
    ]
    return out + _check_counts(p) + _check_place(p) + _check_code_room(p)


def _check_counts(p: SynthParams) -> list[Problem]:
    """Townships, villages and people: enough of each for every township."""
    out: list[Problem] = []

    def bad(name: str, msg: str, fix: str) -> None:
        out.append(Problem(msg, location=f"SynthParams.{name}", fix=fix))

    if p.n_townships < 1:
        bad("n_townships", f"n_townships must be at least 1, got {p.n_townships}", "use e.g. 8")
    if not 0 <= p.n_xiang <= p.n_townships:
        bad("n_xiang", f"n_xiang must be 0..n_townships, got {p.n_xiang}", "use e.g. 2")
    min_v = p.n_xiang + p.n_remote + 3 * (p.n_townships + p.n_subdistricts)
    if not min_v <= p.n_villages <= 150 * (p.n_townships + p.n_subdistricts):
        bad(
            "n_villages",
            f"n_villages={p.n_villages} must leave about 3..150 villages per township",
            f"use at least {min_v}",
        )
    if p.seat_population < 1_000 * p.n_subdistricts:
        bad("seat_population", "seat_population must be at least 1,000 per sub-district", "use e.g. 75000")
    lo, hi = p.town_population
    if not 500 <= lo <= hi:
        bad(
            "town_population",
            f"town_population must be (low, high) with 500 <= low <= high, got {lo, hi}",
            "",
        )
    settlements = p.n_subdistricts * p.communities_per_subdistrict + p.n_townships + 1 + p.n_villages
    if p.total_population is not None and not 50 * settlements <= p.total_population <= 200_000_000:
        bad(
            "total_population",
            f"total_population={p.total_population:,} must give at least 50 people per settlement "
            f"(about {settlements:,} settlements) and at most 200,000,000",
            f"use at least {50 * settlements:,} people, or fewer villages",
        )
    return out


def _check_code_room(p: SynthParams) -> list[Problem]:
    """The synthetic counties' codes stay in the prefecture of ``county_code`` (last two digits <= 99)."""
    if not (len(p.county_code) == 6 and p.county_code.isdigit() and p.townships_per_county >= 1):
        return []  # reported by the other checks
    if int(p.county_code[4:]) + p.n_counties - 1 <= 99:
        return []
    return [
        Problem(
            f"{p.n_townships} townships at {p.townships_per_county} per county need {p.n_counties} "
            f"county codes from {p.county_code}, past {p.county_code[:4]}99",
            location="SynthParams.county_code",
            fix=f"use a county_code ending at most {100 - p.n_counties:02d}, or raise townships_per_county",
        )
    ]


def _check_place(p: SynthParams) -> list[Problem]:
    """The county's code and where it lies."""
    out: list[Problem] = []
    if not (len(p.county_code) == 6 and p.county_code.isdigit()):
        out.append(
            Problem(
                f"county_code must be 6 digits, got {p.county_code!r}",
                location="SynthParams.county_code",
                fix='use e.g. "379901"',
            )
        )
    if not (73.0 <= p.centre_lon <= 135.0 and 18.0 <= p.centre_lat <= 54.0):
        out.append(
            Problem(
                "the centre must lie in China (lon 73..135, lat 18..54)",
                location="SynthParams.centre_lon",
                fix="use 116.6, 36.45",
            )
        )
    return out
