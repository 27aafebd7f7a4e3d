"""Clocks and frame timelines, with property tests."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from accord import Clock, FrameTimeline
from accord.errors import ClockError, OutOfBoundsError

finite = st.floats(-1e5, 1e5, allow_nan=False, allow_infinity=False)
rates = st.floats(0.5, 2.0, allow_nan=False)


@given(offset=finite, rate=rates, t=finite)
def test_clock_round_trip(offset: float, rate: float, t: float) -> None:
    c = Clock(offset, rate)
    assert c.to_stream(c.to_item(t)) == pytest.approx(t, abs=1e-6, rel=1e-9)
    assert c.inverse().to_item(c.to_item(t)) == pytest.approx(t, abs=1e-6, rel=1e-9)


@given(a=st.tuples(finite, rates), b=st.tuples(finite, rates), t=finite)
def test_clock_composition(a: tuple[float, float], b: tuple[float, float], t: float) -> None:
    ca, cb = Clock(*a), Clock(*b)
    assert ca.then(cb).to_item(t) == pytest.approx(cb.to_item(ca.to_item(t)), rel=1e-9, abs=1e-6)


def test_clock_drift_ppm_and_arrays() -> None:
    c = Clock.from_drift(0.3617, 150)
    assert c.rate == pytest.approx(1.00015)
    assert c.drift_ppm == pytest.approx(150)
    t = np.array([0.0, 10.0])
    np.testing.assert_allclose(c.to_item(t), [0.3617, 0.3617 + 10.0015])
    assert Clock.from_dict({"offset": 1, "drift_ppm": -20}).rate == pytest.approx(0.99998)


@pytest.mark.parametrize(
    "bad", [{"rate": 0}, {"rate": -1}, {"offset": float("nan")}, {"rate": True}]
)
def test_clock_rejects(bad: dict) -> None:
    with pytest.raises(ClockError):
        Clock.from_dict(bad)


def test_ntsc_rate_is_exact_over_long_spans() -> None:
    n = 107_892  # one hour of 29.97 fps
    tl = FrameTimeline.constant("30000/1001", n)
    assert tl.rate == Fraction(30000, 1001)
    assert tl.time_of(n - 1) == pytest.approx((n - 1) * 1001 / 30000, abs=1e-9)
    assert tl.end == pytest.approx(n * 1001 / 30000, abs=1e-9)
    for k in (0, 1, 29, 30, 1799, 1800, n // 2, n - 1):
        assert tl.index_at(tl.time_of(k)) == k
        assert tl.index_at(tl.centre_of(k)) == k
        assert tl.index_at(np.nextafter(tl.end_of(k), 0) - 1e-5) == k


@given(
    count=st.integers(1, 2000),
    num=st.sampled_from([24000, 25, 30000, 60000, 10]),
    start=st.floats(0, 100),
    data=st.data(),
)
def test_constant_timeline_index_time_round_trip(count, num, start, data) -> None:
    rate = Fraction(num, 1001) if num > 100 else Fraction(num)
    tl = FrameTimeline.constant(rate, count, start)
    n = data.draw(st.integers(0, count - 1))
    assert tl.index_at(tl.time_of(n)) == n
    assert tl.index_at(tl.centre_of(n)) == n
    assert tl.time_of(n) < tl.centre_of(n) < tl.end_of(n)


@given(gaps=st.lists(st.floats(0.005, 0.2), min_size=1, max_size=300), data=st.data())
def test_variable_rate_timeline(gaps: list[float], data) -> None:
    ts = np.concatenate([[0.0], np.cumsum(gaps)])
    assume(np.all(np.diff(ts) > 1e-4))
    tl = FrameTimeline.from_timestamps(ts[:-1], end=float(ts[-1]))
    n = data.draw(st.integers(0, len(tl) - 1))
    assert tl.time_of(n) == pytest.approx(ts[n])
    assert tl.index_at(tl.centre_of(n)) == n
    t = data.draw(st.floats(float(ts[0]), float(ts[-1]), exclude_max=True))
    k = tl.index_at(t)
    assert tl.time_of(k) - 1e-6 <= t < tl.end_of(k) + 1e-6
    assert tl.indices_at(np.array([t]))[0] == k


def test_timeline_vfr_detection_and_serialisation() -> None:
    cfr = FrameTimeline.from_timestamps(np.arange(10) / 25)
    assert cfr.is_constant and cfr.rate == 25
    vfr = FrameTimeline.from_timestamps([0, 0.04, 0.1, 0.13], end=0.2)
    assert not vfr.is_constant
    assert FrameTimeline.from_dict(vfr.to_dict()).timestamps.tolist() == [0, 0.04, 0.1, 0.13]
    again = FrameTimeline.from_dict(FrameTimeline.constant("30000/1001", 300).to_dict())
    assert again.rate == Fraction(30000, 1001) and again.count == 300


def test_timeline_bounds() -> None:
    tl = FrameTimeline.constant(10, 5)
    with pytest.raises(OutOfBoundsError):
        tl.index_at(0.5)
    with pytest.raises(OutOfBoundsError):
        tl.time_of(5)
    assert tl.index_at(0.5, clamp=True) == 4
    assert tl.nearest(0.26) == 3 and tl.nearest(-1) == 0
    with pytest.raises(ClockError):
        FrameTimeline.from_timestamps([0, 0.1, 0.1])
