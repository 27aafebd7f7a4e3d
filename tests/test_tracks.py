"""Cuboid tracks: interpolation between keyframes (accord.model.tracks).

The hand-worked cases in ``js/tests/cloud_viewer_track_cases.json`` are also run by
vitest against the page's copy of the maths (``cloud_viewer_tracks.test.ts``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.errors import ValidationError
from accord.model.geometry import Cuboid
from accord.model.tracks import (
    interpolate_cuboid,
    interpolate_track,
    shortest_arc,
    sweep_cuboids,
    wrap_angle,
)

CASES = json.loads(
    (Path(__file__).parent.parent / "js" / "tests" / "cloud_viewer_track_cases.json").read_text()
)


def _cub(d: dict) -> Cuboid:
    return Cuboid.from_value(d)


def _same(got: Cuboid, want: dict, tol: float = 1e-9, wrapped: bool = True) -> None:
    assert got.center == pytest.approx(tuple(want["center"]), abs=tol)
    assert got.size == pytest.approx(tuple(want["size"]), abs=tol)
    assert (
        abs(wrap_angle(got.yaw - want["yaw"] + math.pi) - math.pi) < tol
        or abs(shortest_arc(got.yaw, want["yaw"])) < tol
    ), (got.yaw, want["yaw"])
    if wrapped:
        assert -math.pi <= got.yaw < math.pi


@pytest.mark.parametrize("case", CASES["pairs"], ids=[c["note"][:40] for c in CASES["pairs"]])
def test_pair_cases(case: dict) -> None:
    _same(interpolate_cuboid(_cub(case["a"]), _cub(case["b"]), case["t"]), case["want"])


@pytest.mark.parametrize("case", CASES["tracks"], ids=[c["note"][:40] for c in CASES["tracks"]])
def test_track_cases(case: dict) -> None:
    keys = {int(k): _cub(v) for k, v in case["keyframes"].items()}
    for sweep, want in case["want"].items():
        got = interpolate_track(keys, int(sweep), case["times"])
        if want is None:
            assert got is None
        else:
            assert got is not None
            _same(got, want)


angles = st.floats(-20, 20, allow_nan=False)
coords = st.floats(-100, 100, allow_nan=False)
sizes = st.floats(0.05, 30, allow_nan=False)
cuboids = st.builds(
    lambda c, s, y: Cuboid((c[0], c[1], c[2]), (s[0], s[1], s[2]), y),
    st.tuples(coords, coords, coords),
    st.tuples(sizes, sizes, sizes),
    angles,
)


@given(angles)
def test_wrap_angle_range_and_identity(a: float) -> None:
    w = wrap_angle(a)
    assert -math.pi <= w < math.pi
    assert math.isclose(math.cos(w), math.cos(a), abs_tol=1e-9)
    assert math.isclose(math.sin(w), math.sin(a), abs_tol=1e-9)


@given(angles, angles)
def test_shortest_arc_is_never_longer_than_half_a_turn(a: float, b: float) -> None:
    d = shortest_arc(a, b)
    assert -math.pi <= d < math.pi
    assert math.isclose(math.cos(a + d), math.cos(b), abs_tol=1e-9)
    assert math.isclose(math.sin(a + d), math.sin(b), abs_tol=1e-9)


@given(cuboids, cuboids, st.floats(0, 1))
def test_interpolation_properties(a: Cuboid, b: Cuboid, t: float) -> None:
    c = interpolate_cuboid(a, b, t)
    # endpoints
    _same(interpolate_cuboid(a, b, 0.0), {**a.to_dict(), "yaw": a.yaw}, 1e-7)
    _same(interpolate_cuboid(a, b, 1.0), {**b.to_dict(), "yaw": b.yaw}, 1e-7)
    # centre and size stay within the keyframes' range; sizes stay positive
    for i in range(3):
        lo, hi = sorted((a.center[i], b.center[i]))
        assert lo - 1e-9 <= c.center[i] <= hi + 1e-9
        lo, hi = sorted((a.size[i], b.size[i]))
        assert lo - 1e-9 <= c.size[i] <= hi + 1e-9 and c.size[i] > 0
    # yaw turns monotonically along the shorter arc: never more than half a turn from a
    arc = abs(shortest_arc(a.yaw, b.yaw))
    assert abs(shortest_arc(a.yaw, c.yaw)) <= t * arc + 1e-7
    assert abs(shortest_arc(c.yaw, b.yaw)) <= (1 - t) * arc + 1e-7


@given(cuboids, cuboids, st.integers(1, 30), st.data())
def test_track_between_two_keyframes_matches_the_pair(
    a: Cuboid, b: Cuboid, gap: int, data: st.DataObject
) -> None:
    s = data.draw(st.integers(0, gap))
    got = interpolate_track({0: a, gap: b}, s)
    assert got is not None
    want = interpolate_cuboid(a, b, s / gap)
    _same(got, {**want.to_dict()}, 1e-9, wrapped=0 < s < gap)
    assert interpolate_track({0: a, gap: b}, gap + 1) is None
    assert interpolate_track({0: a, gap: b}, -1) is None


def test_fraction_outside_zero_one_is_refused() -> None:
    a = Cuboid((0, 0, 0), (1, 1, 1), 0)
    with pytest.raises(ValidationError):
        interpolate_cuboid(a, a, 1.5)


def _rec(i: str, frame: int, x: float, track: str | None = "t1", yaw: float = 0.0) -> dict:
    return {
        "id": i,
        "kind": "cuboid",
        "frame": frame,
        "label": "car",
        "track": track,
        "annotator": "ana",
        "geometry": {"center": [x, 0.0, 0.0], "size": [4.0, 2.0, 1.5], "yaw": yaw},
    }


def test_sweep_cuboids_mixes_keyframes_and_interpolations() -> None:
    records = [
        _rec("a", 0, 0.0),
        _rec("b", 10, 10.0),
        _rec("c", 5, 50.0, track=None),
        {"id": "x", "kind": "box", "frame": 5, "label": "car", "geometry": {}},
    ]
    shown = sweep_cuboids(records, 5)
    by = {(c.id, c.track): c for c in shown}
    assert set(by) == {("c", None), (None, "t1")}
    interp = by[(None, "t1")]
    assert interp.interpolated and interp.between == ("a", "b")
    assert interp.cuboid.center == pytest.approx((5.0, 0.0, 0.0))
    assert interp.to_dict()["interpolated"] is True
    # on a keyframe the stored record is shown, not an interpolation
    (kf,) = sweep_cuboids(records, 10)
    assert kf.id == "b" and not kf.interpolated
    assert sweep_cuboids(records, 11) == []
