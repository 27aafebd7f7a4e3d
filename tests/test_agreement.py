"""Agreement coefficients against published worked examples and reference libraries.

Published examples (each test names its source):

* Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational
  and Psychological Measurement*, 20(1), 37–46 — Table 2b (p. 45).
* Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
  *Psychological Bulletin*, 76(5), 378–382 — the 30 patients × 6 psychiatrists
  diagnoses, κ = .430 (the data as shipped in R ``irr::diagnoses`` and in
  statsmodels' test-suite, where ``irr::kappam.fleiss`` gives 0.4302445).
* Wikipedia, "Fleiss' kappa", worked example (14 raters, 10 subjects, 5
  categories): P̄ = 0.378, P̄_e = 0.213, κ = 0.210.
* Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg
  School for Communication Departmental Papers 43, University of Pennsylvania —
  section C, 4 observers × 12 units with missing values: α = 0.743 (nominal),
  0.815 (ordinal), 0.849 (interval), 0.797 (ratio).
* Krippendorff, K. (2004). *Content Analysis: An Introduction to Its
  Methodology* (2nd ed.), Sage — the 3 coders × 15 units example: α = 0.691
  (nominal), 0.811 (interval) (0.691358 and 0.810845 in the ``krippendorff``
  package's documented examples).
* SAS/STAT PROC FREQ, AGREE output for the 3 × 3 table [[0,4,1],[0,8,0],[0,1,5]]:
  simple κ = 0.4842, weighted (Cicchetti–Allison, i.e. linear) κ = 0.4701, as
  reproduced in statsmodels' ``test_inter_rater.py``.

Reference libraries (random data, 1e-9): scikit-learn ``cohen_kappa_score``,
statsmodels ``fleiss_kappa``, the ``krippendorff`` package, and scipy's
``linear_sum_assignment``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from accord.errors import GeometryError, ShapeError, ValidationError
from accord.model.geometry import Box, Cuboid, TextSpan, TimeSegment, points_in_cuboid
from accord.qa.agreement import (
    _ipf_quasi_independence,
    cohen_kappa,
    cohen_kappa_from_table,
    cuboid_iou,
    cuboid_iou_matrix,
    detection_agreement,
    fleiss_kappa,
    krippendorff_alpha,
    match_boxes,
    segment_agreement,
    segment_kappa,
    segment_overlap,
    span_f1,
)
from accord.qa.matching import linear_sum_assignment, match_by_score

krippendorff = pytest.importorskip("krippendorff")
sklearn_metrics = pytest.importorskip("sklearn.metrics")
sm_inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
scipy_optimize = pytest.importorskip("scipy.optimize")

NAN = np.nan
LEVELS = ("nominal", "ordinal", "interval", "ratio")


# ---------------------------------------------------------------------------
# Cohen's kappa
# ---------------------------------------------------------------------------

# Cohen (1960), Table 2b, p. 45: 200 items, 3 categories, rows = judge A.
COHEN_1960 = np.array([[88, 14, 18], [10, 40, 10], [2, 6, 12]])


def _expand(table: np.ndarray) -> tuple[list[int], list[int]]:
    a, b = [], []
    for (i, j), n in np.ndenumerate(table):
        a += [i] * int(n)
        b += [j] * int(n)
    return a, b


def test_cohen_1960_published_example():
    # the paper: p_o = .70, p_c = .41, κ = (.70 − .41)/(1 − .41) = .29/.59 ≈ .49
    kappa = cohen_kappa_from_table(COHEN_1960)
    assert kappa == pytest.approx((0.70 - 0.41) / (1 - 0.41), abs=1e-12)
    assert round(kappa, 2) == 0.49
    a, b = _expand(COHEN_1960)
    assert cohen_kappa(a, b) == pytest.approx(kappa, abs=1e-12)


def test_sas_weighted_kappa_published_output():
    table = np.array([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert round(cohen_kappa_from_table(table), 4) == 0.4842
    assert round(cohen_kappa_from_table(table, weights="linear"), 4) == 0.4701


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@pytest.mark.parametrize("seed", range(6))
def test_cohen_matches_sklearn(weights, seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 7))
    n = int(rng.integers(5, 300))
    a = rng.integers(0, k, n)
    b = np.where(rng.random(n) < 0.6, a, rng.integers(0, k, n))
    ref = sklearn_metrics.cohen_kappa_score(a, b, weights=weights)
    assert cohen_kappa(a, b, weights=weights) == pytest.approx(ref, abs=1e-9)
    # string labels with an explicit order give the same value
    names = np.array([f"grade-{i}" for i in range(k)])
    got = cohen_kappa(names[a], names[b], weights=weights, labels=list(names))
    assert got == pytest.approx(ref, abs=1e-9)


def test_cohen_labels_add_unused_categories_like_sklearn():
    a = [0, 1, 1, 2, 2]
    b = [0, 1, 2, 2, 2]
    for w in (None, "linear", "quadratic"):
        ref = sklearn_metrics.cohen_kappa_score(a, b, labels=[0, 1, 2, 3], weights=w)
        assert cohen_kappa(a, b, labels=[0, 1, 2, 3], weights=w) == pytest.approx(ref, abs=1e-12)


def test_cohen_custom_weight_matrix_equals_named_weights():
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    idx = np.arange(4)
    quad = (idx[:, None] - idx[None, :]) ** 2
    assert cohen_kappa(a, b, weights=quad) == pytest.approx(
        cohen_kappa(a, b, weights="quadratic"), abs=1e-12
    )


def test_cohen_perfect_and_degenerate():
    assert cohen_kappa(["x", "y", "x"], ["x", "y", "x"]) == 1.0
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"]))  # no variation: undefined


def test_cohen_rejects_bad_input():
    with pytest.raises(ShapeError, match=r"^b: expected as many labels as a"):
        cohen_kappa([1, 2, 3], [1, 2])
    with pytest.raises(ValidationError, match=r"^a\[1\]: expected a label"):
        cohen_kappa([1, None, 3], [1, 2, 3])
    with pytest.raises(ValidationError, match=r"^b\[2\]"):
        cohen_kappa(["a", "b", "c"], ["a", "b", "zz"], labels=["a", "b", "c"])
    with pytest.raises(ValidationError, match=r"^weights"):
        cohen_kappa([1, 2], [1, 2], weights="cubic")
    with pytest.raises(ValidationError, match="explicit labels"):
        cohen_kappa([1, "x"], ["x", 1], weights="linear")
    with pytest.raises(ShapeError, match=r"^table"):
        cohen_kappa_from_table([[1, 2, 3]])
    with pytest.raises(ValidationError, match=r"^labels: expected unique"):
        cohen_kappa([1, 2], [1, 2], labels=[1, 2, 2])


# ---------------------------------------------------------------------------
# Fleiss' kappa
# ---------------------------------------------------------------------------

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories.
WIKIPEDIA_FLEISS = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)

# Fleiss (1971), Table 1: diagnoses of 30 patients by 6 psychiatrists
# (1 depression, 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other).
FLEISS_1971 = np.array(
    [
        [4, 4, 4, 4, 4, 4],
        [2, 2, 2, 5, 5, 5],
        [2, 3, 3, 3, 3, 5],
        [5, 5, 5, 5, 5, 5],
        [2, 2, 2, 4, 4, 4],
        [1, 1, 3, 3, 3, 3],
        [3, 3, 3, 3, 5, 5],
        [1, 1, 3, 3, 3, 4],
        [1, 1, 4, 4, 4, 4],
        [5, 5, 5, 5, 5, 5],
        [1, 4, 4, 4, 4, 4],
        [1, 2, 4, 4, 4, 4],
        [2, 2, 2, 3, 3, 3],
        [1, 4, 4, 4, 4, 4],
        [2, 2, 4, 4, 4, 5],
        [3, 3, 3, 3, 3, 5],
        [1, 1, 1, 4, 5, 5],
        [1, 1, 1, 1, 1, 2],
        [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5],
        [2, 4, 4, 4, 4, 4],
        [2, 2, 4, 5, 5, 5],
        [1, 1, 4, 4, 4, 4],
        [1, 4, 4, 4, 4, 5],
        [2, 2, 2, 2, 2, 4],
        [1, 1, 1, 1, 5, 5],
        [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 3, 3, 3],
        [5, 5, 5, 5, 5, 5],
    ]
)


def test_fleiss_wikipedia_worked_example():
    kappa = fleiss_kappa(WIKIPEDIA_FLEISS)
    assert round(kappa, 3) == 0.210
    # the page's intermediate values: P̄ = 0.378, P̄_e = 0.213
    assert kappa == pytest.approx((0.378 - 0.213) / (1 - 0.213), abs=2e-3)


def test_fleiss_1971_published_example():
    kappa = fleiss_kappa(ratings=FLEISS_1971)
    assert round(kappa, 3) == 0.430  # Fleiss (1971)
    assert kappa == pytest.approx(0.4302445, abs=5e-8)  # irr::kappam.fleiss(diagnoses)


@pytest.mark.parametrize("seed", range(8))
def test_fleiss_matches_statsmodels(seed):
    rng = np.random.default_rng(seed)
    n_subjects, raters, k = (
        int(rng.integers(2, 60)),
        int(rng.integers(2, 9)),
        int(rng.integers(2, 6)),
    )
    ratings = rng.integers(0, k, size=(n_subjects, raters))
    table, _ = sm_inter_rater.aggregate_raters(ratings, n_cat=k)
    ref = sm_inter_rater.fleiss_kappa(table, method="fleiss")
    assert fleiss_kappa(table) == pytest.approx(ref, abs=1e-9)
    assert fleiss_kappa(ratings=ratings) == pytest.approx(ref, abs=1e-9)


def test_fleiss_rejects_bad_input():
    with pytest.raises(ValidationError, match="exactly one"):
        fleiss_kappa()
    with pytest.raises(ValidationError, match="exactly one"):
        fleiss_kappa([[1, 1]], ratings=[[1, 1]])
    with pytest.raises(ValidationError, match=r"^counts\[1\]: expected the same number"):
        fleiss_kappa([[2, 1], [1, 1]])
    with pytest.raises(ValidationError, match=r"^ratings\[0, 1\]"):
        fleiss_kappa(ratings=[["a", None], ["a", "b"]])
    with pytest.raises(ShapeError, match=r"^counts"):
        fleiss_kappa([1, 2, 3])


# ---------------------------------------------------------------------------
# Krippendorff's alpha
# ---------------------------------------------------------------------------

# Krippendorff (2011), section C: observers A–D (rows) × units 1–12, NaN = missing.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]

# Krippendorff (2004), Content Analysis: 3 coders × 15 units.
KRIPPENDORFF_2004 = [
    [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
    [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
    [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_published_example(level, published):
    assert round(krippendorff_alpha(KRIPPENDORFF_2011, level=level), 3) == published


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.691), ("interval", 0.811)])
def test_krippendorff_content_analysis_example(level, published):
    assert round(krippendorff_alpha(KRIPPENDORFF_2004, level=level), 3) == published


def _random_reliability(rng, coders, units, values, missing):
    x = rng.choice(values, size=(coders, units)).astype(np.float64)
    # correlated coders, so alpha is not ~0
    truth = rng.choice(values, size=units)
    x = np.where(rng.random(x.shape) < 0.5, truth[None, :], x)
    x[rng.random(x.shape) < missing] = NAN
    return x


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    ("coders", "units", "values", "missing"),
    [
        (2, 40, [0, 1], 0.2),
        (3, 60, [1, 2, 3, 4, 5], 0.3),
        (5, 200, [1, 2, 3, 4, 5, 6, 7], 0.1),
        (4, 50, [1, 2, 5, 9], 0.4),  # gaps in the domain
        (7, 80, [0.5, 1.25, 2.0, 3.75, 10.0], 0.5),
        (30, 40, [1, 2, 3], 0.3),  # many coders: the chunked pair path
    ],
)
@pytest.mark.parametrize("seed", range(3))
def test_krippendorff_matches_reference_package(level, coders, units, values, missing, seed):
    rng = np.random.default_rng(seed * 1000 + coders)
    x = _random_reliability(rng, coders, units, values, missing)
    ref = krippendorff.alpha(reliability_data=x, level_of_measurement=level)
    assert krippendorff_alpha(x, level=level) == pytest.approx(ref, abs=1e-9)


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_continuous_values_match_reference(level):
    rng = np.random.default_rng(11)
    x = np.round(rng.gamma(4.0, 1.0, size=(4, 120)), 2)
    x[1] = np.where(rng.random(120) < 0.7, x[0], x[1])
    x[rng.random(x.shape) < 0.25] = NAN
    ref = krippendorff.alpha(reliability_data=x, level_of_measurement=level)
    assert krippendorff_alpha(x, level=level) == pytest.approx(ref, abs=1e-9)


def test_krippendorff_labels_nominal_and_ordinal_with_domain():
    rng = np.random.default_rng(5)
    x = _random_reliability(rng, 4, 70, [0, 1, 2, 3, 4], 0.3)
    names = np.array(["very low", "low", "mid", "high", "very high"], dtype=object)
    labels = np.where(np.isnan(x), None, names[np.nan_to_num(x).astype(int)])
    for level in ("nominal", "ordinal"):
        expected = krippendorff_alpha(x, level=level)
        got = krippendorff_alpha(labels, level=level, value_domain=list(names))
        assert got == pytest.approx(expected, abs=1e-12)
    # nominal labels need no domain; "nan" strings (numpy's NaN in str arrays) are missing
    as_str = np.where(np.isnan(x), "nan", names[np.nan_to_num(x).astype(int)].astype(str))
    assert krippendorff_alpha(as_str) == pytest.approx(
        krippendorff.alpha(as_str, level_of_measurement="nominal"), abs=1e-9
    )


def test_krippendorff_ordinal_domain_order_is_respected():
    rng = np.random.default_rng(8)
    x = _random_reliability(rng, 3, 60, [1, 2, 3, 4], 0.2)
    domain = [3, 1, 4, 2]  # an explicit (odd) order
    ref = krippendorff.alpha(x, level_of_measurement="ordinal", value_domain=domain)
    assert krippendorff_alpha(x, level="ordinal", value_domain=domain) == pytest.approx(
        ref, abs=1e-9
    )
    assert krippendorff_alpha(x, level="ordinal") != pytest.approx(ref, abs=1e-6)


def test_krippendorff_invariances_and_limits():
    rng = np.random.default_rng(2)
    x = _random_reliability(rng, 5, 90, [1, 2, 3, 4], 0.2)
    for level in LEVELS:
        a = krippendorff_alpha(x, level=level)
        shuffled = x[rng.permutation(5)][:, rng.permutation(90)]
        assert krippendorff_alpha(shuffled, level=level) == pytest.approx(a, abs=1e-12)
        assert krippendorff_alpha(np.tile(x[0], (3, 1)), level=level) == 1.0
    # no variation among the pairable values: alpha is undefined
    assert math.isnan(krippendorff_alpha([[1, 1, NAN], [1, 1, 2]]))
    # lists with None are accepted
    assert krippendorff_alpha([[1, None, 2], [1, 2, 2]]) == pytest.approx(
        krippendorff_alpha([[1, NAN, 2], [1, 2, 2]])
    )


def test_krippendorff_rejects_bad_input():
    with pytest.raises(ShapeError, match=r"^reliability_data: expected a 2-D"):
        krippendorff_alpha([1, 2, 3])
    with pytest.raises(ValidationError, match="two or more coders"):
        krippendorff_alpha([[1, NAN], [NAN, 2]])
    with pytest.raises(ValidationError, match=r"^value_domain: expected the ordered list"):
        krippendorff_alpha([["lo", "hi"], ["lo", "lo"]], level="ordinal")
    with pytest.raises(ValidationError, match=r"^reliability_data\[0, 1\]: expected a number"):
        krippendorff_alpha([[1, "hi"], [1, 2]], level="interval")
    with pytest.raises(ValidationError, match=r"^reliability_data\[1, 1\]: expected a value of"):
        krippendorff_alpha([[1, 2], [1, 7]], value_domain=[1, 2, 3])
    with pytest.raises(ValidationError, match=r"^level"):
        krippendorff_alpha([[1, 2], [1, 2]], level="circular")
    with pytest.raises(ValidationError, match=r"^reliability_data\[1, 0\]: expected a value >= 0"):
        krippendorff_alpha([[1, 2], [-1, 2]], level="ratio")
    with pytest.raises(ValidationError, match=r"^reliability_data\[0, 0\]: expected a finite"):
        krippendorff_alpha([[np.inf, 2], [1, 2]])


# ---------------------------------------------------------------------------
# Optimal matching
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_linear_sum_assignment_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    n, m = (int(v) for v in rng.integers(1, 25, size=2))
    if seed % 4 == 0:
        cost = rng.integers(0, 3, size=(n, m)).astype(float)  # many ties
    else:
        cost = rng.normal(size=(n, m)) * 100
    for maximize in (False, True):
        rows, cols = linear_sum_assignment(cost, maximize=maximize)
        assert len(rows) == min(n, m)
        assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)
        assert (np.diff(rows) > 0).all()
        r2, c2 = scipy_optimize.linear_sum_assignment(cost, maximize=maximize)
        assert cost[rows, cols].sum() == pytest.approx(cost[r2, c2].sum(), abs=1e-9)


def _best_matching_total(scores: np.ndarray, thr: float) -> float:
    n, m = scores.shape
    best = 0.0
    for k in range(min(n, m) + 1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.permutations(range(m), k):
                vals = scores[list(rows), list(cols)]
                if k == 0 or ((vals >= thr) & (vals > 0)).all():
                    best = max(best, float(vals.sum()) if k else 0.0)
    return best


@pytest.mark.parametrize("seed", range(25))
def test_match_by_score_is_optimal_under_threshold(seed):
    rng = np.random.default_rng(seed)
    n, m = (int(v) for v in rng.integers(1, 5, size=2))
    scores = np.where(rng.random((n, m)) < 0.4, 0.0, rng.random((n, m)))
    thr = float(rng.choice([0.0, 0.3, 0.5]))
    pairs, vals = match_by_score(scores, thr)
    assert ((vals >= thr) & (vals > 0)).all()
    assert len(set(pairs[:, 0].tolist())) == len(pairs) == len(set(pairs[:, 1].tolist()))
    assert vals.sum() == pytest.approx(_best_matching_total(scores, thr), abs=1e-12)


def test_matching_rejects_bad_input():
    with pytest.raises(ShapeError, match=r"^cost"):
        linear_sum_assignment(np.zeros((2, 2, 2)))
    with pytest.raises(ValidationError, match=r"^cost: expected finite"):
        linear_sum_assignment([[1.0, NAN]])
    empty_rows, empty_cols = linear_sum_assignment(np.zeros((0, 3)))
    assert len(empty_rows) == len(empty_cols) == 0


# ---------------------------------------------------------------------------
# Boxes and cuboids
# ---------------------------------------------------------------------------


def test_box_matching_hand_worked_optimal_not_greedy():
    # boxes as x, y, w, h; intersections and unions by hand:
    #   a0 = [0,10]×[0,10]  b0 = [1,11]×[1,11]: 9·9 = 81 / (200 − 81) = 81/119 ≈ 0.681
    #   a0                  b1 = [−5,5]×[0,10]: 5·10 = 50 / 150       = 1/3
    #   a1 = [4,14]×[0,10]  b0:                 7·9 = 63 / 137        ≈ 0.460
    #   a1                  b1:                 1·10 = 10 / 190       ≈ 0.053
    # At threshold 0.3, greedy-by-IoU takes (a0, b0) and strands a1 (one pair, 0.681);
    # the optimum is (a0, b1) + (a1, b0): two pairs, total 0.793.
    a = np.array([[0, 0, 10, 10], [4, 0, 10, 10]], dtype=float)
    b = np.array([[1, 1, 10, 10], [-5, 0, 10, 10]], dtype=float)
    pairs, ious = match_boxes(a, b, iou_threshold=0.3)
    assert pairs.tolist() == [[0, 1], [1, 0]]
    assert ious.tolist() == pytest.approx([50 / 150, 63 / 137])
    res = detection_agreement(
        a, b, iou_threshold=0.3, labels_a=["car", "car"], labels_b=["car", "van"]
    )
    assert (res["matched"], res["precision"], res["recall"], res["f1"]) == (2, 1.0, 1.0, 1.0)
    assert res["mean_iou"] == pytest.approx((50 / 150 + 63 / 137) / 2)
    # labels: a0 (car) ↔ b1 (van) disagree, a1 (car) ↔ b0 (car) agree
    assert res["matched_same_label"] == 1 and res["label_agreement"] == 0.5
    assert res["f1_labelled"] == pytest.approx(2 * 1 / 4)
    # at threshold 0.5 only (a0, b0) (0.68) or (a1, b0) (0.46) qualify: one match
    res = detection_agreement(a, b, iou_threshold=0.5)
    assert res["pairs"] == [(0, 0)] and res["precision"] == 0.5 and res["recall"] == 0.5
    assert res["f1"] == pytest.approx(0.5)


def test_detection_counts_and_empty_sets():
    a = [Box(0, 0, 10, 10), {"x": 100, "y": 100, "w": 5, "h": 5}, [50, 50, 4, 4]]
    b = [[0, 0, 10, 10]]
    res = detection_agreement(a, b)
    assert (res["n_a"], res["n_b"], res["matched"]) == (3, 1, 1)
    assert res["precision"] == 1.0 and res["recall"] == pytest.approx(1 / 3)
    assert res["f1"] == pytest.approx(2 / 4)
    empty = detection_agreement([], [])
    assert math.isnan(empty["f1"]) and empty["matched"] == 0
    one_sided = detection_agreement([], b)
    assert one_sided["precision"] == 0.0 and math.isnan(one_sided["recall"])


def test_detection_rejects_bad_input():
    with pytest.raises(ShapeError, match=r"^a: expected an \(N, 4\) array"):
        detection_agreement(np.zeros((2, 3)), [])
    with pytest.raises(GeometryError, match=r"^b\[0\]"):
        detection_agreement([], np.array([[0, 0, -1, 2]]))
    with pytest.raises(ValidationError, match=r"^iou_threshold"):
        detection_agreement([], [], iou_threshold=1.5)
    with pytest.raises(ShapeError, match=r"^labels_a"):
        detection_agreement([[0, 0, 1, 1]], [], labels_a=["x", "y"], labels_b=[])
    with pytest.raises(ValidationError, match=r"^labels_b: expected labels for both"):
        detection_agreement([[0, 0, 1, 1]], [], labels_a=["x"])
    with pytest.raises(ValidationError, match=r"^labels_b\[0\]: expected a label"):
        detection_agreement([[0, 0, 1, 1]], [[0, 0, 1, 1]], labels_a=["x"], labels_b=[None])
    with pytest.raises(ValidationError, match=r"^kind"):
        detection_agreement([], [], kind="polygon")


CUBE = [0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]
BAR = [0.0, 0.0, 0.0, 4.0, 2.0, 2.0, 0.0]  # length 4 along the heading, width 2, height 2


def test_cuboid_iou_hand_worked():
    assert cuboid_iou(BAR, BAR) == pytest.approx(1.0)
    # shifted 1 m along x: overlap 3 × 2 × 2 = 12, union 16 + 16 − 12 = 20
    assert cuboid_iou(BAR, [1, 0, 0, 4, 2, 2, 0]) == pytest.approx(12 / 20)
    # shifted 1 m up: overlap 4 × 2 × 1 = 8, union 24; BEV unchanged
    assert cuboid_iou(BAR, [0, 0, 1, 4, 2, 2, 0]) == pytest.approx(1 / 3)
    assert cuboid_iou(BAR, [0, 0, 1, 4, 2, 2, 0], bev=True) == pytest.approx(1.0)
    # turned 90°: footprints cross in a 2 × 2 square → 8 / (32 − 8)
    assert cuboid_iou(BAR, [0, 0, 0, 4, 2, 2, math.pi / 2]) == pytest.approx(1 / 3)
    # turned 180°: the same box
    assert cuboid_iou(BAR, [0, 0, 0, 4, 2, 2, math.pi]) == pytest.approx(1.0)
    # a 2 m cube turned 45°: regular octagon of area 8(√2 − 1) → IoU = 1/√2
    octagon = 8 * (math.sqrt(2) - 1)
    assert cuboid_iou(CUBE, [0, 0, 0, 2, 2, 2, math.pi / 4]) == pytest.approx(
        octagon / (8 - octagon)
    )
    assert cuboid_iou(CUBE, [0, 0, 0, 2, 2, 2, math.pi / 4]) == pytest.approx(1 / math.sqrt(2))
    assert cuboid_iou(CUBE, [10, 0, 0, 2, 2, 2, 0]) == 0.0
    # Cuboid values and mappings are accepted
    c = Cuboid((0.0, 0.0, 0.0), (4.0, 2.0, 2.0), 0.0)
    assert cuboid_iou(c, {"center": [1, 0, 0], "size": [4, 2, 2], "yaw": 0}) == pytest.approx(0.6)


def test_cuboid_iou_agrees_with_point_sampling():
    rng = np.random.default_rng(4)
    for _ in range(5):
        a = Cuboid((0.0, 0.0, 0.0), tuple(rng.uniform(1, 3, 3)), float(rng.uniform(0, math.pi)))
        b = Cuboid(
            tuple(rng.uniform(-0.7, 0.7, 3)),
            tuple(rng.uniform(1, 3, 3)),
            float(rng.uniform(0, math.pi)),
        )
        g = np.linspace(-3, 3, 121)
        pts = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
        ia, ib = points_in_cuboid(pts, a), points_in_cuboid(pts, b)
        sampled = (ia & ib).sum() / (ia | ib).sum()
        assert cuboid_iou(a, b) == pytest.approx(sampled, abs=0.02)


def test_cuboid_detection_agreement():
    a = [BAR, [10, 10, 0, 2, 2, 2, 0]]
    b = [[1, 0, 0, 4, 2, 2, 0], [10.2, 10, 0, 2, 2, 2, 0.1], [30, 0, 0, 1, 1, 1, 0]]
    res = detection_agreement(a, b, kind="cuboid", iou_threshold=0.5)
    assert res["pairs"] == [(0, 0), (1, 1)]
    assert res["recall"] == 1.0 and res["precision"] == pytest.approx(2 / 3)
    m = cuboid_iou_matrix(a, b)
    assert m.shape == (2, 3) and m[0, 2] == 0.0
    pairs, _ = match_boxes(a, b, iou_fn=cuboid_iou_matrix)
    assert pairs.tolist() == [[0, 0], [1, 1]]
    with pytest.raises(GeometryError, match=r"^b\[0\]"):
        cuboid_iou_matrix([BAR], [[0, 0, 0, 1, -1, 1, 0]])


# ---------------------------------------------------------------------------
# Time segments
# ---------------------------------------------------------------------------

# A hand-worked EasyDIAg-style example. Rater a: A 0–10, B 20–30, A 40–50, B 60–70.
# Rater b: A 1–10, B 20–29, A 80–90, B 100–110. Links: (0–10, 1–10) overlap 9/10 = 90 %
# of the longer, (20–30, 20–29) 90 %; the rest are unlinked.
# Agreement matrix (matched pairs count 2, unlinked segments 1):
#            A  B  ∅
#        A [ 2  0  1 ]
#        B [ 0  2  1 ]
#        ∅ [ 1  1  0 ]      N = 8, p_o = 4/8 = 0.5
# Quasi-independent expected table with the structural zero: margins (3, 3, 2) on
# both sides are fitted exactly by all-ones (1+1+1 = 3, 1+1 = 2), so p_e = 2/8 and
# κ = (0.5 − 0.25) / 0.75 = 1/3. Plain Cohen on the full table would give
# p_e = (9 + 9 + 4)/64 and κ = 0.238 — the structural zero matters.
SEG_A = [(0, 10, "A"), (20, 30, "B"), (40, 50, "A"), (60, 70, "B")]
SEG_B = [(1, 10, "A"), (20, 29, "B"), (80, 90, "A"), (100, 110, "B")]


def test_segment_kappa_hand_worked():
    r = segment_kappa(SEG_A, SEG_B)
    assert r["pairs"] == [(0, 0), (1, 1)]
    assert r["labels"] == ["A", "B"]
    assert r["table"].tolist() == [[2, 0, 1], [0, 2, 1], [1, 1, 0]]
    assert r["raw_agreement"] == pytest.approx(0.5)
    assert r["chance_agreement"] == pytest.approx(0.25)
    assert r["kappa"] == pytest.approx(1 / 3)
    assert r["kappa_max"] == pytest.approx((6 / 8 - 0.25) / 0.75)
    assert r["kappa_linked"] == 1.0 and r["raw_agreement_linked"] == 1.0
    # per label (ELAN's 2 × 2 tables): A yes/yes 2, yes/no 1, no/yes 1, no/no 4
    assert r["per_label"]["A"] == pytest.approx((6 / 8 - (9 + 25) / 64) / (1 - (9 + 25) / 64))
    assert (r["n_a"], r["n_b"]) == (4, 4)


def test_segment_kappa_link_criterion_is_share_of_the_longer():
    # 6 of the longer 10 s = 60 %: linked at the default criterion
    r = segment_kappa([(0, 10, "x")], [(0, 6, "x")])
    assert r["pairs"] == [(0, 0)]
    # 5.9 of 10 s = 59 %: not linked, unless the criterion is lowered
    assert segment_kappa([(0, 10, "x")], [(0, 5.9, "x")])["pairs"] == []
    assert segment_kappa([(0, 10, "x")], [(0, 5.9, "x")], min_overlap=0.5)["pairs"] == [(0, 0)]


def test_segment_kappa_conflicts_go_to_the_largest_relative_overlap():
    # with a 30 % criterion a0 could link b0 (40 %) or b1 (50 %); b1 wins, b0 stays unlinked
    a = [(0, 10, "x")]
    b = [(6, 10, "x"), (-5, 5, "y")]
    r = segment_kappa(a, b, min_overlap=0.3)
    assert r["pairs"] == [(0, 1)]
    # labels [x, y, unlinked]: the link x→y counts 2, b0 (x) is unlinked
    assert r["table"].tolist() == [[0, 2, 0], [0, 0, 0], [1, 0, 0]]


def test_segment_kappa_perfect_and_labels_as_keywords():
    segs = [(0, 1), (2, 3), (4, 5), (6, 7)]
    labs = ["a", "b", "a", "b"]
    r = segment_kappa(segs, segs, labels_a=labs, labels_b=labs)
    assert r["kappa"] == 1.0 and r["raw_agreement"] == 1.0
    # one label only, every segment linked: chance agreement is 1, kappa undefined
    r = segment_kappa([(0, 1, "a")], [(0, 1, "a")])
    assert math.isnan(r["kappa"])


@pytest.mark.parametrize("seed", range(10))
def test_ipf_fits_quasi_independence_with_structural_zero(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    table = rng.integers(0, 9, size=(k + 1, k + 1)).astype(float)
    table[:k, :k] *= 2
    table[k, k] = 0
    mask = np.ones_like(table, dtype=bool)
    mask[k, k] = False
    f = _ipf_quasi_independence(table.sum(1), table.sum(0), mask)
    assert f[k, k] == 0.0
    assert f.sum(1) == pytest.approx(table.sum(1), abs=1e-9)
    assert f.sum(0) == pytest.approx(table.sum(0), abs=1e-6)
    # quasi-independence: every 2 × 2 cross-product ratio of allowed positive cells is 1
    pos = f > 1e-9
    for i, j in itertools.combinations(range(k + 1), 2):
        for c, d in itertools.combinations(range(k + 1), 2):
            cells = [(i, c), (i, d), (j, c), (j, d)]
            if all(pos[x] and mask[x] for x in cells):
                assert f[i, c] * f[j, d] == pytest.approx(f[i, d] * f[j, c], rel=1e-6)


def _elan_ipf_kappa(table: np.ndarray) -> float:
    """ELAN's GlobalCKappa.kappaAllIPF: seed 1s, 0.001 in the structural-zero cell, 20 rounds."""
    rows, cols = table.sum(1), table.sum(0)
    rows, cols = np.where(rows == 0, 0.001, rows), np.where(cols == 0, 0.001, cols)
    f = np.ones_like(table)
    f[-1, -1] = 0.001
    for _ in range(20):
        f = f / f.sum(1, keepdims=True) * rows[:, None]
        f = f / f.sum(0, keepdims=True) * cols[None, :]
    n = table.sum()
    p_o, p_e = np.trace(table) / n, np.trace(f[:-1, :-1]) / n
    return (p_o - p_e) / (1 - p_e)


@pytest.mark.parametrize("seed", range(5))
def test_segment_kappa_close_to_elans_approximate_fit(seed):
    rng = np.random.default_rng(seed)
    starts = np.arange(15) * 5.0
    a = [(s, s + rng.uniform(1, 4), str(rng.choice(list("abc")))) for s in starts]
    b = [
        (s + rng.uniform(-1, 1), s + rng.uniform(1, 4), str(rng.choice(list("abc"))))
        for s in starts
        if rng.random() < 0.8
    ]
    r = segment_kappa(a, b)
    assert r["kappa"] == pytest.approx(_elan_ipf_kappa(r["table"]), abs=2e-3)


def test_segment_kappa_rejects_bad_input():
    with pytest.raises(ValidationError, match=r"^labels_a: expected a label for every"):
        segment_kappa([(0, 1)], [(0, 1, "x")])
    with pytest.raises(ValidationError, match=r"^min_overlap"):
        segment_kappa(SEG_A, SEG_B, min_overlap=0)
    with pytest.raises(ValidationError, match=r"^a\[0\]\.end: expected a value after start"):
        segment_kappa([(5, 5, "x")], SEG_B)
    with pytest.raises(ValidationError, match=r"^a: expected labels on every interval"):
        segment_kappa([(0, 1, "x"), (2, 3)], SEG_B)
    with pytest.raises(ValidationError, match=r"^labels_a: expected labels on the items"):
        segment_kappa(SEG_A, SEG_B, labels_a=["A"] * 4)


def test_segment_agreement_hand_worked():
    r = segment_agreement(SEG_A, SEG_B)
    # tIoU of (0–10, 1–10) and (20–30, 20–29): 9/10 each
    assert r["pairs"] == [(0, 0), (1, 1)] and r["ious"] == pytest.approx([0.9, 0.9])
    assert (r["precision"], r["recall"], r["f1"]) == (0.5, 0.5, 0.5)
    assert r["label_agreement"] == 1.0
    # coverage: a 40 s, b 38 s, both 9 + 9 = 18 s, union 60 s
    assert (r["covered_a"], r["covered_b"], r["intersection"], r["union"]) == (40, 38, 18, 60)
    assert r["overlap"] == pytest.approx(0.3) and r["overlap_labelled"] == pytest.approx(0.3)


def test_segment_overlap_merges_and_labels():
    a = [TimeSegment(0, 10), {"start": 5, "end": 15}]  # one rater, overlapping: 0–15
    b = np.array([[10.0, 20.0]])
    r = segment_overlap(a, b)
    assert (r["covered_a"], r["intersection"], r["union"]) == (15, 5, 20)
    r = segment_overlap([(0, 10, "x")], [(0, 10, "y")])
    assert r["overlap"] == 1.0 and r["overlap_labelled"] == 0.0


@pytest.mark.parametrize("seed", range(10))
def test_segment_overlap_matches_rasterisation(seed):
    rng = np.random.default_rng(seed)

    def segs(n):
        s = rng.integers(0, 90, n)
        return [(int(x), int(x + rng.integers(1, 15)), str(rng.choice(["p", "q"]))) for x in s]

    a, b = segs(int(rng.integers(0, 8))), segs(int(rng.integers(1, 8)))
    grid = np.zeros((2, 2, 120), dtype=bool)  # rater × label × second
    for r, ss in enumerate((a, b)):
        for s, e, lab in ss:
            grid[r, int(lab == "q"), s:e] = True
    cov = grid.any(axis=1)
    inter, union = (cov[0] & cov[1]).sum(), (cov[0] | cov[1]).sum()
    same = (grid[0] & grid[1]).sum()
    res = segment_overlap(a, b)
    assert res["intersection"] == inter and res["union"] == union
    assert res["overlap_labelled"] == pytest.approx(same / union)


# ---------------------------------------------------------------------------
# Text spans
# ---------------------------------------------------------------------------


def test_span_f1_exact_and_overlap_hand_worked():
    gold = [(0, 5, "PER"), (10, 15, "LOC"), (20, 25, "ORG")]
    pred = [(0, 5, "PER"), (9, 15, "LOC"), (20, 25, "PER"), (30, 33, "LOC")]
    exact = span_f1(gold, pred)
    # only (0, 5, PER) agrees exactly: P = 1/4, R = 1/3, F1 = 2/7
    assert (exact["matched"], exact["precision"], exact["recall"]) == (1, 0.25, 1 / 3)
    assert exact["f1"] == pytest.approx(2 / 7)
    over = span_f1(gold, pred, mode="overlap")
    # (0–5 PER) and (10–15 ~ 9–15 LOC) agree; (20–25) differs in label
    assert over["matched"] == 2 and over["f1"] == pytest.approx(4 / 7)
    # without labels the label clash no longer matters
    unl = span_f1([s[:2] for s in gold], [s[:2] for s in pred], mode="overlap")
    assert unl["matched"] == 3


def test_span_f1_overlap_maximises_the_number_of_pairs():
    # a0 overlaps b0 a lot and b1 a little; a1 overlaps only b0: two pairs are possible
    a = [(0, 10), (8, 12)]
    b = [(0, 9), (9, 20)]
    assert span_f1(a, b, mode="overlap")["matched"] == 2
    # exact mode counts duplicates as a multiset
    r = span_f1([(0, 2), (0, 2)], [(0, 2)])
    assert (r["matched"], r["recall"], r["precision"]) == (1, 0.5, 1.0)


def test_span_f1_accepts_textspans_and_label_keywords():
    r = span_f1([TextSpan(0, 3)], [{"start": 0, "end": 3}], labels_a=["x"], labels_b=["x"])
    assert r["f1"] == 1.0
    assert math.isnan(span_f1([], [])["f1"])


def test_span_f1_rejects_bad_input():
    with pytest.raises(ValidationError, match=r"^a_spans\[0\]: expected integer offsets"):
        span_f1([(0.5, 2)], [])
    with pytest.raises(ValidationError, match=r"^b_spans: expected labels on both sides"):
        span_f1([(0, 2, "x")], [(0, 2)])
    with pytest.raises(ValidationError, match=r"^mode"):
        span_f1([], [], mode="fuzzy")
    with pytest.raises(ValidationError, match=r"^labels_a: expected labels on the items"):
        span_f1([(0, 2, "x")], [(0, 2, "x")], labels_a=["x"])
    with pytest.raises(ValidationError, match=r"^b_spans\[0\]\.label: expected a label"):
        span_f1([(0, 2, "x")], [(0, 2, None)])
    with pytest.raises(ShapeError, match=r"^a_spans"):
        span_f1("0-2", [])
