"""Agreement between annotators, as plain functions on plain values.

Chance-corrected coefficients for labels:

* :func:`cohen_kappa` / :func:`cohen_kappa_from_table` — two raters, optionally
  weighted (linear, quadratic or a custom disagreement matrix);
* :func:`fleiss_kappa` — a fixed number of raters per subject;
* :func:`krippendorff_alpha` — any number of coders, missing values, nominal,
  ordinal, interval and ratio data.

Agreement on *where* things are, then on what they are:

* :func:`match_boxes`, :func:`detection_agreement` — boxes or cuboids paired
  one-to-one by optimal (maximum total IoU) matching above an IoU threshold,
  precision / recall / F1 and label agreement on the matched pairs;
  :func:`cuboid_iou` / :func:`cuboid_iou_matrix` — rotated 3-D (or bird's-eye
  view) IoU;
* :func:`segment_overlap`, :func:`segment_agreement` — time segments: overlap of
  the covered time and temporal-IoU F1;
* :func:`segment_kappa` — the overlap-linked modified kappa of EasyDIAg/ELAN;
* :func:`span_f1` — text spans, exact or overlapping.

Every function validates its input and raises :class:`~accord.errors.ValidationError`
(or its subclass :class:`~accord.errors.ShapeError`) naming the argument and
what was expected. Undefined coefficients (no variation, nothing to compare)
are returned as ``nan`` rather than raised.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from accord.errors import GeometryError, ShapeError, ValidationError
from accord.model.geometry import (
    Box,
    Cuboid,
    TextSpan,
    TimeSegment,
    box_iou_matrix,
    convex_polygon_intersection,
    cuboid_corners,
    polygon_area,
)
from accord.qa.matching import match_by_score

__all__ = [
    "cohen_kappa",
    "cohen_kappa_from_table",
    "cuboid_iou",
    "cuboid_iou_matrix",
    "detection_agreement",
    "fleiss_kappa",
    "krippendorff_alpha",
    "match_boxes",
    "segment_agreement",
    "segment_kappa",
    "segment_overlap",
    "span_f1",
]

Weights = Literal["linear", "quadratic"] | None
Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")
NAN = float("nan")


# -- small helpers ---------------------------------------------------------------


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den != 0 else NAN


def _is_real(x: Any) -> bool:
    return isinstance(x, Real | np.number) and not isinstance(x, bool | np.bool_)


def _missing_mask(arr: np.ndarray) -> np.ndarray:
    """Missing entries of an object/str/number array: None, NaN, pd.NA, NaT."""
    if arr.dtype.kind in "fc":
        return np.isnan(arr)
    if arr.dtype.kind in "biu":
        return np.zeros(arr.shape, dtype=bool)
    if arr.dtype.kind in "US":
        return arr == "nan" if arr.dtype.kind == "U" else arr == b"nan"
    return np.asarray(pd.isna(arr), dtype=bool)


def _vector(value: Any, where: str) -> np.ndarray:
    """A 1-D array of labels: numeric if every label is a number, else object dtype."""
    if isinstance(value, str | bytes) or value is None:
        raise ShapeError(where, "a sequence of labels", value)
    if isinstance(value, pd.Series | pd.Index):
        value = value.to_numpy()
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            items = list(value)
        except TypeError:
            raise ShapeError(where, "a sequence of labels", value) from None
        nested = next(
            (i for i, v in enumerate(items) if isinstance(v, list | tuple | np.ndarray)), None
        )
        if nested is not None:
            raise ShapeError(f"{where}[{nested}]", "a single label", items[nested])
        if items and all(_is_real(v) for v in items):
            arr = np.asarray(items)
        else:  # keep labels as given: no coercion of 1 to "1" in a mixed list
            arr = np.empty(len(items), dtype=object)
            arr[:] = items
    if arr.ndim != 1:
        raise ShapeError(where, "a 1-D sequence of labels", f"an array with shape {arr.shape}")
    if arr.dtype.kind not in "biufUSO":
        raise ValidationError(where, "labels (numbers or strings)", f"dtype {arr.dtype}")
    return arr


def _label_order(values: np.ndarray, labels: Any, where: str, *, need_order: bool) -> list[Any]:
    """The category list: ``labels`` if given (validated), else the sorted unique values."""
    if labels is not None:
        lab = list(_vector(labels, "labels"))
        if len(lab) == 0:
            raise ValidationError("labels", "at least one label", labels)
        if len(set(lab)) != len(lab):
            dup = [x for x, n in Counter(lab).items() if n > 1]
            raise ValidationError("labels", "unique labels", f"duplicates {dup!r}")
        return lab
    uniq = list(pd.unique(values))
    try:
        return sorted(uniq)
    except TypeError:
        if need_order:
            raise ValidationError(
                where,
                "mutually comparable labels, or an explicit labels=[...] order",
                "a mix of types that cannot be sorted",
            ) from None
        return uniq


def _codes(values: np.ndarray, labels: list[Any], where: str) -> np.ndarray:
    """Index of each value in ``labels``; raises naming the first unknown value."""
    codes = np.asarray(pd.Index(labels, dtype=object).get_indexer(values), dtype=np.intp)
    bad = np.flatnonzero(codes < 0)
    if len(bad):
        raise ValidationError(f"{where}[{bad[0]}]", f"one of the labels {labels!r}", values[bad[0]])
    return codes


# -- Cohen's kappa ---------------------------------------------------------------


def _disagreement_weights(weights: Any, k: int) -> np.ndarray:
    idx = np.arange(k, dtype=np.float64)
    if weights is None:
        return 1.0 - np.eye(k)
    if isinstance(weights, str):
        if weights == "linear":
            return np.abs(idx[:, None] - idx[None, :])
        if weights == "quadratic":
            return (idx[:, None] - idx[None, :]) ** 2
        raise ValidationError("weights", "None, 'linear', 'quadratic' or a k×k matrix", weights)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (k, k):
        raise ShapeError("weights", f"a {k}×{k} disagreement matrix", f"shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValidationError("weights", "finite disagreement weights >= 0", "negative or NaN")
    return w


def cohen_kappa_from_table(table: ArrayLike, *, weights: Weights | ArrayLike = None) -> float:
    """Cohen's kappa of a ``k × k`` contingency table (rows: rater 1, columns: rater 2).

    κ = (p_o − p_e) / (1 − p_e) with p_o the observed and p_e the chance agreement
    from the marginals; weighted, κ_w = 1 − Σ w_ij o_ij / Σ w_ij e_ij with e_ij =
    r_i c_j / N and disagreement weights ``w`` = ``|i − j|`` (``"linear"``),
    ``(i − j)²`` (``"quadratic"``) or a given matrix. ``nan`` when e has no
    disagreement (both raters constant). References: Cohen, J. (1960), "A
    coefficient of agreement for nominal scales", *Educ. Psychol. Meas.* 20(1);
    Cohen, J. (1968), "Weighted kappa", *Psychol. Bull.* 70(4).
    """
    t = np.asarray(table, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] != t.shape[1] or t.shape[0] == 0:
        raise ShapeError("table", "a square k×k contingency table", f"shape {t.shape}")
    if not np.isfinite(t).all() or (t < 0).any():
        raise ValidationError("table", "finite counts >= 0", "negative or NaN entries")
    total = t.sum()
    if total <= 0:
        raise ValidationError("table", "at least one rated item", "an empty table")
    w = _disagreement_weights(weights, t.shape[0])
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / total
    return 1.0 - _ratio(float((w * t).sum()), float((w * expected).sum()))


def cohen_kappa(
    a: ArrayLike,
    b: ArrayLike,
    *,
    weights: Weights | ArrayLike = None,
    labels: ArrayLike | None = None,
) -> float:
    """Cohen's kappa between two raters' labels for the same items.

    ``a[i]`` and ``b[i]`` are the two labels of item ``i`` (no missing values).
    ``labels`` fixes the category order — needed for weighted kappa on labels
    that do not sort naturally; by default the sorted union of the values.
    Weights index categories by position, as scikit-learn's ``cohen_kappa_score``
    does. See :func:`cohen_kappa_from_table` for the formula and references.
    """
    va, vb = _vector(a, "a"), _vector(b, "b")
    if len(va) != len(vb):
        raise ShapeError("b", f"as many labels as a ({len(va)})", f"{len(vb)} labels")
    if len(va) == 0:
        raise ValidationError("a", "at least one rated item", "no items")
    for name, v in (("a", va), ("b", vb)):
        miss = np.flatnonzero(_missing_mask(v))
        if len(miss):
            raise ValidationError(
                f"{name}[{miss[0]}]",
                "a label (Cohen's kappa has no missing values; use krippendorff_alpha)",
                v[miss[0]],
            )
    both = np.concatenate([va.astype(object), vb.astype(object)])
    order = _label_order(both, labels, "a", need_order=weights is not None)
    ia, ib = _codes(va.astype(object), order, "a"), _codes(vb.astype(object), order, "b")
    k = len(order)
    table = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k)
    return cohen_kappa_from_table(table, weights=weights)


# -- Fleiss' kappa ---------------------------------------------------------------


def fleiss_kappa(
    counts: ArrayLike | None = None,
    *,
    ratings: ArrayLike | None = None,
    labels: ArrayLike | None = None,
) -> float:
    """Fleiss' kappa for ``n`` raters per subject.

    Give either ``counts`` (subjects × categories, ``counts[i, j]`` raters who put
    subject ``i`` in category ``j``, every row summing to the same ``n >= 2``) or
    ``ratings`` (subjects × raters, the labels; no missing values).

    P_i = (Σ_j n_ij² − n) / (n(n − 1)), P̄ = mean P_i, p_j = Σ_i n_ij / (N n),
    P̄_e = Σ_j p_j², κ = (P̄ − P̄_e) / (1 − P̄_e) (``nan`` if P̄_e = 1).
    Reference: Fleiss, J. L. (1971), "Measuring nominal scale agreement among
    many raters", *Psychological Bulletin* 76(5), 378–382.
    """
    if (counts is None) == (ratings is None):
        raise ValidationError("counts", "exactly one of counts=... or ratings=...", "both or none")
    if ratings is not None:
        r = np.asarray(ratings, dtype=object) if not isinstance(ratings, np.ndarray) else ratings
        if r.ndim != 2 or r.shape[1] < 2:
            raise ShapeError("ratings", "subjects × raters (at least 2 raters)", f"shape {r.shape}")
        miss = np.argwhere(_missing_mask(r))
        if len(miss):
            i, j = miss[0]
            raise ValidationError(
                f"ratings[{i}, {j}]",
                "a label (Fleiss' kappa needs every rater; use krippendorff_alpha)",
                r[i, j],
            )
        flat = r.astype(object).ravel()
        order = _label_order(flat, labels, "ratings", need_order=False)
        codes = _codes(flat, order, "ratings").reshape(r.shape)
        k = len(order)
        rows = np.repeat(np.arange(r.shape[0]), r.shape[1])
        c = np.bincount(rows * k + codes.ravel(), minlength=r.shape[0] * k).reshape(-1, k)
        c = c.astype(np.float64)
    else:
        c = np.asarray(counts, dtype=np.float64)
        if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
            raise ShapeError("counts", "a subjects × categories count table", f"shape {c.shape}")
        if not np.isfinite(c).all() or (c < 0).any():
            raise ValidationError("counts", "finite counts >= 0", "negative or NaN entries")
    n_per = c.sum(axis=1)
    n = n_per[0]
    if not np.allclose(n_per, n):
        bad = int(np.flatnonzero(~np.isclose(n_per, n))[0])
        raise ValidationError(
            f"counts[{bad}]", f"the same number of ratings per subject ({n:g})", n_per[bad]
        )
    if n < 2:
        raise ValidationError("counts", "at least 2 ratings per subject", n)
    big_n = c.shape[0]
    p_i = ((c * c).sum(axis=1) - n) / (n * (n - 1))
    p_bar = p_i.mean()
    p_j = c.sum(axis=0) / (big_n * n)
    p_e = float((p_j * p_j).sum())
    return _ratio(p_bar - p_e, 1.0 - p_e)


# -- Krippendorff's alpha --------------------------------------------------------


def _reliability_values(
    data: Any, level: str, value_domain: Any
) -> tuple[np.ndarray, np.ndarray | None]:
    """Coders × units floats (NaN = missing) and, for ordinal data, each cell's rank.

    Returns ``(x, rank)``: ``x`` holds numbers (interval, ratio, nominal) or codes
    (nominal labels); ``rank`` (same shape, ordinal only) is the index of the
    value in the ordered domain.
    """
    if isinstance(data, pd.DataFrame):
        data = data.to_numpy()
    try:
        # lists are read as objects, so a mixed row is not coerced to strings
        arr = data if isinstance(data, np.ndarray) else np.asarray(data, dtype=object)
    except ValueError as exc:
        raise ShapeError(
            "reliability_data", "a coders × units matrix", detail=f"ragged rows ({exc})"
        ) from None
    if arr.ndim != 2:
        raise ShapeError(
            "reliability_data", "a 2-D coders × units matrix", f"an array with shape {arr.shape}"
        )
    if arr.dtype.kind not in "biufUSO":
        raise ValidationError("reliability_data", "numbers or labels", f"dtype {arr.dtype}")
    missing = _missing_mask(arr)
    numeric = arr.dtype.kind in "biuf"
    if arr.dtype.kind == "O":
        present = arr[~missing]
        numeric = all(_is_real(v) for v in present)
    if numeric:
        x = np.full(arr.shape, np.nan)
        x[~missing] = arr[~missing].astype(np.float64)
        if np.isinf(x).any():
            i, j = np.argwhere(np.isinf(x))[0]
            raise ValidationError(f"reliability_data[{i}, {j}]", "a finite number", x[i, j])
    elif level in ("interval", "ratio"):
        cells = np.argwhere(~missing)
        i, j = next((c for c in cells if not _is_real(arr[c[0], c[1]])), cells[0])
        raise ValidationError(f"reliability_data[{i}, {j}]", f"a number ({level} data)", arr[i, j])
    if level == "ratio" and numeric and (x[~missing] < 0).any():
        i, j = np.argwhere(x < 0)[0]
        raise ValidationError(f"reliability_data[{i}, {j}]", "a value >= 0 (ratio data)", x[i, j])

    values = arr[~missing]
    if value_domain is not None:
        dom = _vector(value_domain, "value_domain")
        dom_list = list(dom.astype(object))
        if len(set(dom_list)) != len(dom_list):
            raise ValidationError("value_domain", "unique values", value_domain)
        obj = x[~missing].astype(object) if numeric else values.astype(object)
        codes = pd.Index(dom_list, dtype=object).get_indexer(obj)
        bad = np.flatnonzero(codes < 0)
        if len(bad):
            i, j = np.argwhere(~missing)[bad[0]]
            raise ValidationError(
                f"reliability_data[{i}, {j}]", f"a value of value_domain {dom_list!r}", arr[i, j]
            )
        codes = np.asarray(codes, dtype=np.float64)
    elif level == "ordinal" and not numeric:
        raise ValidationError(
            "value_domain",
            "the ordered list of labels (ordinal data given as labels)",
            None,
        )
    else:
        codes = None

    if not numeric:
        if codes is None:  # nominal labels without a domain
            codes = pd.factorize(values.astype(object))[0].astype(np.float64)
        x = np.full(arr.shape, np.nan)
        x[~missing] = codes
    rank = None
    if level == "ordinal":
        rank = np.full(arr.shape, np.nan)
        if codes is not None:
            rank[~missing] = codes
        else:
            rank[~missing] = np.unique(x[~missing], return_inverse=True)[1]
    return x, rank


def _unit_pair_sums(
    x: np.ndarray, present: np.ndarray, fn: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """Per unit (column), Σ over coder pairs i < j both present of ``fn(x_i, x_j)``."""
    m, n = x.shape
    out = np.zeros(n)
    if m <= 24:
        for i in range(m - 1):
            for j in range(i + 1, m):
                both = present[i] & present[j]
                if both.any():
                    out[both] += fn(x[i, both], x[j, both])
        return out
    iu, ju = np.triu_indices(m, k=1)
    step = max(1, 4_000_000 // len(iu))
    for s in range(0, n, step):
        xs, ps = x[:, s : s + step], present[:, s : s + step]
        both = ps[iu] & ps[ju]
        d = np.where(both, fn(np.where(both, xs[iu], 0.0), np.where(both, xs[ju], 0.0)), 0.0)
        out[s : s + step] = d.sum(axis=0)
    return out


def _nominal_d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a != b).astype(np.float64)


def _ratio_d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    s = a + b
    return np.divide(a - b, s, out=np.zeros(np.broadcast(a, b).shape), where=s != 0) ** 2


def krippendorff_alpha(
    reliability_data: ArrayLike,
    *,
    level: Level = "nominal",
    value_domain: ArrayLike | None = None,
) -> float:
    """Krippendorff's alpha of coders × units reliability data with missing values.

    ``reliability_data[c][u]`` is coder ``c``'s value for unit ``u``; ``None``/NaN
    is missing (the string ``"nan"`` too, as numpy writes NaN into string
    arrays). Values are numbers, or labels for nominal data, or labels with an
    ordered ``value_domain`` for ordinal data. ``value_domain`` also restricts
    the values allowed.

    α = 1 − D_o / D_e = 1 − (n − 1) Σ_ck o_ck δ²_ck / Σ_ck n_c n_k δ²_ck, where
    o is the coincidence matrix of the pairable values (units with ≥ 2 values),
    n_c its marginals, n = Σ n_c, and δ² the level's difference function:
    nominal ``[c ≠ k]``, ordinal ``(Σ_{g=c..k} n_g − (n_c + n_k)/2)²``, interval
    ``(c − k)²``, ratio ``((c − k)/(c + k))²``. ``nan`` when the pairable values
    show no variation. Reference: Krippendorff, K. (2011), "Computing
    Krippendorff's Alpha-Reliability", Annenberg School for Communication
    Departmental Papers 43, University of Pennsylvania.

    Computed without building the coincidence matrix: per unit, the sum of δ²
    over ordered pairs of values — in closed form for interval data (and for
    ordinal data, which is interval data on the mid-ranks Σ_{g<c} n_g + n_c/2),
    pair by pair for nominal and ratio data — weighted by 1/(m_u − 1); the
    expected term from the value totals n_c (closed form except for ratio data,
    summed over pairs of distinct values in blocks).
    """
    if level not in LEVELS:
        raise ValidationError("level", f"one of {list(LEVELS)}", level)
    x, rank = _reliability_values(reliability_data, level, value_domain)
    present = ~np.isnan(x)
    m_u = present.sum(axis=0)
    pairable = m_u >= 2
    if not pairable.any():
        raise ValidationError(
            "reliability_data",
            "at least one unit with values from two or more coders",
            "no pairable unit",
        )
    x, present, m = x[:, pairable], present[:, pairable], m_u[pairable].astype(np.float64)
    weight = 1.0 / (m - 1.0)
    n = float(m.sum())
    if level == "ordinal":
        assert rank is not None
        r = rank[:, pairable]
        ranks = r[present].astype(np.intp)
        n_v = np.bincount(ranks).astype(np.float64)
        mid = np.cumsum(n_v) - n_v / 2.0  # Σ_{g<c} n_g + n_c/2
        x = np.full(x.shape, np.nan)
        x[present] = mid[ranks]
        level_eff = "interval"
    else:
        level_eff = level
    vals, n_c = np.unique(x[present], return_counts=True)
    n_c = n_c.astype(np.float64)

    if level_eff == "interval":
        xs = np.where(present, x, 0.0)
        mean_u = xs.sum(axis=0) / m
        dev = np.where(present, x - mean_u, 0.0)
        per_unit = 2.0 * m * (dev * dev).sum(axis=0)  # Σ_{i≠j} (x_i − x_j)²
        mean = float((n_c * vals).sum() / n)
        d_e = 2.0 * n * float((n_c * (vals - mean) ** 2).sum())
    elif level_eff == "nominal":
        per_unit = 2.0 * _unit_pair_sums(x, present, _nominal_d)
        d_e = n * n - float((n_c * n_c).sum())
    else:  # ratio
        per_unit = 2.0 * _unit_pair_sums(x, present, _ratio_d)
        d_e = 0.0
        step = max(1, 2_000_000 // len(vals))
        for s in range(0, len(vals), step):
            block = _ratio_d(vals[s : s + step, None], vals[None, :])
            d_e += float((n_c[s : s + step, None] * n_c[None, :] * block).sum())
    observed = float((per_unit * weight).sum())  # Σ_ck o_ck δ²_ck
    if d_e <= 0.0:  # d_e = Σ_ck n_c n_k δ²_ck
        return NAN
    return 1.0 - (n - 1.0) * observed / d_e


# -- boxes and cuboids -----------------------------------------------------------


def _boxes(value: Any, where: str) -> np.ndarray:
    """``(N, 4)`` float array of ``x, y, w, h`` from arrays, Boxes, mappings or 4-sequences."""
    if value is None:
        raise ValidationError(where, "a sequence of boxes (possibly empty)", None)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        arr = value.astype(np.float64)
        if arr.size == 0:
            return np.zeros((0, 4))
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise ShapeError(where, "an (N, 4) array of x, y, w, h", f"shape {arr.shape}")
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1) | (arr[:, 2] <= 0) | (arr[:, 3] <= 0))
        if len(bad):
            raise GeometryError(f"{where}[{bad[0]}]", "finite x, y and w, h > 0", arr[bad[0]])
        return arr
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence | np.ndarray):
        raise ShapeError(where, "a sequence of boxes", value)
    out = np.zeros((len(value), 4))
    for i, item in enumerate(value):
        box = item if isinstance(item, Box) else Box.from_value(item, f"{where}[{i}]")
        out[i] = (box.x, box.y, box.w, box.h)
    return out


def _cuboids(value: Any, where: str) -> np.ndarray:
    """``(N, 7)`` array ``cx, cy, cz, l, w, h, yaw`` from arrays, Cuboids, mappings, 7-sequences."""
    if value is None:
        raise ValidationError(where, "a sequence of cuboids (possibly empty)", None)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        arr = value.astype(np.float64)
        if arr.size == 0:
            return np.zeros((0, 7))
        if arr.ndim != 2 or arr.shape[1] != 7:
            raise ShapeError(where, "an (N, 7) array of cx, cy, cz, l, w, h, yaw", f"{arr.shape}")
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1) | (arr[:, 3:6] <= 0).any(axis=1))
        if len(bad):
            raise GeometryError(f"{where}[{bad[0]}]", "finite values and sizes > 0", arr[bad[0]])
        return arr
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence | np.ndarray):
        raise ShapeError(where, "a sequence of cuboids", value)
    out = np.zeros((len(value), 7))
    for i, item in enumerate(value):
        if isinstance(item, Cuboid):
            cub = item
        elif isinstance(item, Mapping):
            cub = Cuboid.from_value(item, f"{where}[{i}]")
        elif (
            isinstance(item, Sequence | np.ndarray)
            and not isinstance(item, str | bytes)
            and (len(item) == 7)
        ):
            cub = Cuboid.from_value(
                {"center": list(item[:3]), "size": list(item[3:6]), "yaw": item[6]},
                f"{where}[{i}]",
            )
        else:
            raise GeometryError(
                f"{where}[{i}]", "a Cuboid, a mapping or [cx, cy, cz, l, w, h, yaw]", item
            )
        out[i] = (*cub.center, *cub.size, cub.yaw)
    return out


def _cuboid_pair_iou(a: np.ndarray, b: np.ndarray, bev: bool) -> float:
    if np.hypot(a[0] - b[0], a[1] - b[1]) > (np.hypot(a[3], a[4]) + np.hypot(b[3], b[4])) / 2:
        return 0.0
    fa = cuboid_corners(a[:3], a[3:6], a[6])[:4, :2]
    fb = cuboid_corners(b[:3], b[3:6], b[6])[:4, :2]
    poly = convex_polygon_intersection(fa, fb)
    inter = polygon_area(poly) if len(poly) >= 3 else 0.0
    area_a, area_b = a[3] * a[4], b[3] * b[4]
    if bev:
        return float(inter / (area_a + area_b - inter))
    dz = min(a[2] + a[5] / 2, b[2] + b[5] / 2) - max(a[2] - a[5] / 2, b[2] - b[5] / 2)
    inter3 = inter * max(0.0, dz)
    return float(inter3 / (area_a * a[5] + area_b * b[5] - inter3))


def cuboid_iou_matrix(a: Any, b: Any, *, bev: bool = False) -> np.ndarray:
    """Pairwise IoU ``(N, M)`` of rotated cuboids (3-D, or bird's-eye view with ``bev``).

    3-D IoU = ``vol(A ∩ B) / (vol(A) + vol(B) − vol(A ∩ B))`` with ``vol(A ∩ B)`` = (area of the
    intersection of the two yawed footprints) × (overlap of the z ranges); the
    BEV IoU uses the footprints only. Cuboids as ``(N, 7)`` arrays
    ``cx, cy, cz, l, w, h, yaw``, :class:`~accord.model.geometry.Cuboid` values,
    mappings or 7-sequences.
    """
    ca, cb = _cuboids(a, "a"), _cuboids(b, "b")
    out = np.zeros((len(ca), len(cb)))
    for i in range(len(ca)):
        for j in range(len(cb)):
            out[i, j] = _cuboid_pair_iou(ca[i], cb[j], bev)
    return out


def cuboid_iou(a: Any, b: Any, *, bev: bool = False) -> float:
    """IoU of two rotated cuboids (see :func:`cuboid_iou_matrix`)."""
    return float(cuboid_iou_matrix([a], [b], bev=bev)[0, 0])


def _check_threshold(value: Any, where: str, *, low_open: bool = False) -> float:
    if not _is_real(value) or not (0.0 < value <= 1.0 if low_open else 0.0 <= value <= 1.0):
        rng = "(0, 1]" if low_open else "[0, 1]"
        raise ValidationError(where, f"a number in {rng}", value)
    return float(value)


def match_boxes(
    a_boxes: Any,
    b_boxes: Any,
    *,
    iou_threshold: float = 0.5,
    iou_fn: Callable[[np.ndarray, np.ndarray], ArrayLike] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal one-to-one matching of two sets of boxes by IoU.

    Among all matchings whose pairs have IoU ≥ ``iou_threshold`` (and > 0), the
    one with the maximum total IoU (linear assignment, see
    :mod:`accord.qa.matching`). Returns ``pairs`` (``(k, 2)`` indices into
    ``a_boxes``, ``b_boxes``) and their ``ious``. ``iou_fn(A, B)`` replaces the
    axis-aligned box IoU: it receives the two inputs unchanged and returns the
    ``(N, M)`` IoU matrix (e.g. :func:`cuboid_iou_matrix`).
    """
    thr = _check_threshold(iou_threshold, "iou_threshold")
    if iou_fn is None:
        ious = box_iou_matrix(_boxes(a_boxes, "a_boxes"), _boxes(b_boxes, "b_boxes"))
    else:
        ious = np.asarray(iou_fn(a_boxes, b_boxes), dtype=np.float64)
        if ious.ndim != 2:
            raise ShapeError("iou_fn", "a function returning an (N, M) matrix", ious.shape)
    return match_by_score(ious, thr, where="iou")


def _labels_for(labels: Any, n: int, where: str) -> np.ndarray | None:
    if labels is None:
        return None
    v = _vector(labels, where).astype(object)
    if len(v) != n:
        raise ShapeError(where, f"one label per item ({n})", f"{len(v)} labels")
    miss = np.flatnonzero(_missing_mask(v))
    if len(miss):
        raise ValidationError(f"{where}[{miss[0]}]", "a label", v[miss[0]])
    return v


def _same_labelling(la: np.ndarray | None, lb: np.ndarray | None) -> None:
    if (la is None) != (lb is None):
        raise ValidationError(
            "labels_b" if lb is None else "labels_a",
            "labels for both annotators or for neither",
            None,
        )


def _matched_summary(
    pairs: np.ndarray,
    scores: np.ndarray,
    n_a: int,
    n_b: int,
    la: np.ndarray | None,
    lb: np.ndarray | None,
    score_name: str,
) -> dict[str, Any]:
    _same_labelling(la, lb)
    k = len(pairs)
    out: dict[str, Any] = {
        "n_a": n_a,
        "n_b": n_b,
        "matched": k,
        "precision": _ratio(k, n_b),
        "recall": _ratio(k, n_a),
        "f1": _ratio(2 * k, n_a + n_b),
        f"mean_{score_name}": float(scores.mean()) if k else NAN,
        "pairs": [(int(i), int(j)) for i, j in pairs],
        score_name + "s": [float(s) for s in scores],
    }
    if la is not None and lb is not None:
        same = int(sum(la[i] == lb[j] for i, j in pairs))
        out["matched_same_label"] = same
        out["label_agreement"] = _ratio(same, k)
        out["f1_labelled"] = _ratio(2 * same, n_a + n_b)
        if k:
            out["label_kappa"] = cohen_kappa(la[pairs[:, 0]], lb[pairs[:, 1]])
        else:
            out["label_kappa"] = NAN
    return out


def detection_agreement(
    a: Any,
    b: Any,
    *,
    kind: Literal["box", "cuboid"] = "box",
    iou_threshold: float = 0.5,
    labels_a: ArrayLike | None = None,
    labels_b: ArrayLike | None = None,
    bev: bool = False,
) -> dict[str, Any]:
    """Agreement of two annotators' boxes (or cuboids) on one image (or sweep).

    Items are matched one-to-one by :func:`match_boxes` (maximum total IoU among
    pairs with IoU ≥ ``iou_threshold``), ``a`` taken as the reference:
    precision = matched / n_b, recall = matched / n_a, F1 = 2·matched / (n_a + n_b)
    (``nan`` when undefined). With ``kind="cuboid"`` the IoU is the rotated 3-D
    IoU (BEV with ``bev=True``). With labels, agreement on the matched pairs:
    ``label_agreement`` (fraction with equal labels), ``label_kappa`` (Cohen's
    kappa on them), ``matched_same_label`` and ``f1_labelled``.

    Returns a dict with ``n_a, n_b, matched, precision, recall, f1, mean_iou,
    pairs, ious`` and the label keys when labels are given.
    """
    if kind == "box":
        ba, bb = _boxes(a, "a"), _boxes(b, "b")
        ious = box_iou_matrix(ba, bb)
    elif kind == "cuboid":
        ba, bb = _cuboids(a, "a"), _cuboids(b, "b")
        ious = cuboid_iou_matrix(ba, bb, bev=bev)
    else:
        raise ValidationError("kind", "'box' or 'cuboid'", kind)
    thr = _check_threshold(iou_threshold, "iou_threshold")
    pairs, scores = match_by_score(ious, thr, where="iou")
    la = _labels_for(labels_a, len(ba), "labels_a")
    lb = _labels_for(labels_b, len(bb), "labels_b")
    return _matched_summary(pairs, scores, len(ba), len(bb), la, lb, "iou")


# -- intervals: time segments and text spans ---------------------------------------


def _intervals(
    value: Any, labels: Any, where: str, *, integer: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Starts, ends and labels (or None) of intervals given in any accepted form.

    Items: ``(start, end)`` or ``(start, end, label)`` sequences, mappings with
    ``start``, ``end`` (and ``label``), :class:`TimeSegment` / :class:`TextSpan`,
    or an ``(N, 2)`` numeric array; labels either on the items or in ``labels``.
    """
    label_where = "labels_" + where[0]  # a / a_spans → labels_a
    if value is None or isinstance(value, str | bytes | Mapping):
        raise ShapeError(where, "a sequence of intervals (possibly empty)", value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        arr = value.astype(np.float64)
        if arr.size == 0:
            arr = np.zeros((0, 2))
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ShapeError(where, "an (N, 2) array of start, end", f"shape {arr.shape}")
        starts, ends, item_labels = arr[:, 0], arr[:, 1], None
    else:
        if not isinstance(value, Sequence | np.ndarray):
            raise ShapeError(where, "a sequence of intervals", value)
        starts = np.zeros(len(value))
        ends = np.zeros(len(value))
        found: list[Any] = []
        n_labelled = 0
        for i, item in enumerate(value):
            lab = None
            if isinstance(item, TimeSegment | TextSpan):
                s, e = item.start, item.end
            elif isinstance(item, Mapping):
                if "start" not in item or "end" not in item:
                    raise ValidationError(f"{where}[{i}]", "a mapping with start and end", item)
                s, e = item["start"], item["end"]
                if "label" in item:
                    lab, n_labelled = item["label"], n_labelled + 1
            elif isinstance(item, Sequence | np.ndarray) and not isinstance(item, str | bytes):
                if len(item) == 3:
                    s, e, lab = item
                    n_labelled += 1
                elif len(item) == 2:
                    s, e = item
                else:
                    raise ValidationError(
                        f"{where}[{i}]", "(start, end) or (start, end, label)", item
                    )
            else:
                raise ValidationError(f"{where}[{i}]", "(start, end[, label]) or a mapping", item)
            for name, v in (("start", s), ("end", e)):
                if not _is_real(v) or not math.isfinite(v):
                    raise ValidationError(f"{where}[{i}].{name}", "a finite number", v)
            starts[i], ends[i] = float(s), float(e)
            found.append(lab)
        if 0 < n_labelled < len(value):
            raise ValidationError(where, "labels on every interval or on none", "a mix")
        item_labels = None
        if n_labelled:
            item_labels = np.empty(len(found), dtype=object)
            item_labels[:] = found
            miss = np.flatnonzero(_missing_mask(item_labels))
            if len(miss):
                raise ValidationError(f"{where}[{miss[0]}].label", "a label", None)
    if not (np.isfinite(starts).all() and np.isfinite(ends).all()):
        i = int(np.flatnonzero(~(np.isfinite(starts) & np.isfinite(ends)))[0])
        raise ValidationError(f"{where}[{i}]", "finite start and end", (starts[i], ends[i]))
    bad = np.flatnonzero(ends <= starts)
    if len(bad):
        i = int(bad[0])
        raise ValidationError(f"{where}[{i}].end", f"a value after start ({starts[i]:g})", ends[i])
    if integer:
        bad = np.flatnonzero((starts != np.round(starts)) | (ends != np.round(ends)) | (starts < 0))
        if len(bad):
            i = int(bad[0])
            raise ValidationError(f"{where}[{i}]", "integer offsets >= 0", (starts[i], ends[i]))
    if labels is not None:
        if item_labels is not None:
            raise ValidationError(label_where, "labels on the items or in labels_*, not both")
        item_labels = _labels_for(labels, len(starts), label_where)
    return starts, ends, item_labels


def _overlap_matrix(sa: np.ndarray, ea: np.ndarray, sb: np.ndarray, eb: np.ndarray) -> np.ndarray:
    return np.clip(np.minimum(ea[:, None], eb[None]) - np.maximum(sa[:, None], sb[None]), 0, None)


def _merge_intervals(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merged, sorted, disjoint intervals covering the given ones."""
    if len(starts) == 0:
        return np.zeros(0), np.zeros(0)
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)
    new = np.ones(len(s), dtype=bool)
    new[1:] = s[1:] > reach[:-1]
    idx = np.flatnonzero(new)
    return s[idx], np.maximum.reduceat(e, idx)


def _intersection_length(s1: np.ndarray, e1: np.ndarray, s2: np.ndarray, e2: np.ndarray) -> float:
    """Total length of the intersection of two sets of disjoint sorted intervals."""
    if len(s1) == 0 or len(s2) == 0:
        return 0.0
    # for each interval of set 1, the intervals of set 2 that can overlap it
    lo = np.searchsorted(e2, s1, side="right")
    hi = np.searchsorted(s2, e1, side="left")
    total = 0.0
    for i in np.flatnonzero(hi > lo):
        a, b = lo[i], hi[i]
        total += float(
            np.clip(np.minimum(e1[i], e2[a:b]) - np.maximum(s1[i], s2[a:b]), 0, None).sum()
        )
    return total


def segment_overlap(
    a: Any,
    b: Any,
    *,
    labels_a: ArrayLike | None = None,
    labels_b: ArrayLike | None = None,
) -> dict[str, float]:
    """Overlap of the time covered by two annotators' segments.

    ``overlap`` = ``len(cov(A) ∩ cov(B)) / len(cov(A) ∪ cov(B))`` where cov is the union of a
    rater's segments (temporal IoU of the coverage; ``nan`` if neither covers
    anything). With labels, ``overlap_labelled`` = ``Σ_l len(cov(A_l) ∩ cov(B_l)) /
    len(cov(A) ∪ cov(B))``, the share of annotated time on which both gave the same
    label. Also returns ``covered_a``, ``covered_b``, ``intersection``, ``union``.
    """
    sa, ea, la = _intervals(a, labels_a, "a")
    sb, eb, lb = _intervals(b, labels_b, "b")
    return _coverage_overlap(sa, ea, la, sb, eb, lb)


def _coverage_overlap(
    sa: np.ndarray,
    ea: np.ndarray,
    la: np.ndarray | None,
    sb: np.ndarray,
    eb: np.ndarray,
    lb: np.ndarray | None,
) -> dict[str, float]:
    _same_labelling(la, lb)
    ua, ub = _merge_intervals(sa, ea), _merge_intervals(sb, eb)
    cov_a, cov_b = float((ua[1] - ua[0]).sum()), float((ub[1] - ub[0]).sum())
    inter = _intersection_length(*ua, *ub)
    union = cov_a + cov_b - inter
    out = {
        "overlap": _ratio(inter, union),
        "covered_a": cov_a,
        "covered_b": cov_b,
        "intersection": inter,
        "union": union,
    }
    if la is not None and lb is not None:
        same = 0.0
        for lab in set(la) & set(lb):
            ma, mb = la == lab, lb == lab
            same += _intersection_length(
                *_merge_intervals(sa[ma], ea[ma]), *_merge_intervals(sb[mb], eb[mb])
            )
        out["overlap_labelled"] = _ratio(same, union)
    return out


def segment_agreement(
    a: Any,
    b: Any,
    *,
    labels_a: ArrayLike | None = None,
    labels_b: ArrayLike | None = None,
    iou_threshold: float = 0.5,
) -> dict[str, Any]:
    """Plain agreement of two annotators' time segments: coverage overlap and tIoU-F1.

    Segments are matched one-to-one maximising the total temporal IoU among pairs
    with tIoU ≥ ``iou_threshold``; precision / recall / F1, ``mean_iou`` and the
    label keys are as in :func:`detection_agreement` (``a`` is the reference),
    plus the keys of :func:`segment_overlap`. Segments: ``(start, end[, label])``,
    mappings, :class:`TimeSegment` values or an ``(N, 2)`` array.
    """
    thr = _check_threshold(iou_threshold, "iou_threshold")
    sa, ea, la = _intervals(a, labels_a, "a")
    sb, eb, lb = _intervals(b, labels_b, "b")
    inter = _overlap_matrix(sa, ea, sb, eb)
    union = (ea - sa)[:, None] + (eb - sb)[None] - inter
    tiou = inter / union
    pairs, scores = match_by_score(tiou, thr, where="tiou")
    out = _matched_summary(pairs, scores, len(sa), len(sb), la, lb, "iou")
    out.update(_coverage_overlap(sa, ea, la, sb, eb, lb))
    return out


def _ipf_quasi_independence(
    rows: np.ndarray, cols: np.ndarray, mask: np.ndarray, *, tol: float = 1e-12
) -> np.ndarray:
    """Expected table under quasi-independence: f_ij = a_i b_j on ``mask``, 0 elsewhere.

    Iterative proportional fitting (Deming & Stephan, 1940) of a seed of ones on
    the allowed cells to the row and column totals, until the totals match.
    """
    f = mask.astype(np.float64)
    total = rows.sum()
    for _ in range(10_000):
        rs = f.sum(axis=1)
        f *= np.divide(rows, rs, out=np.zeros_like(rows), where=rs > 0)[:, None]
        cs = f.sum(axis=0)
        f *= np.divide(cols, cs, out=np.zeros_like(cols), where=cs > 0)[None, :]
        if np.abs(f.sum(axis=1) - rows).max() <= tol * max(total, 1.0):
            break
    return f


def segment_kappa(
    a: Any,
    b: Any,
    *,
    labels_a: ArrayLike | None = None,
    labels_b: ArrayLike | None = None,
    min_overlap: float = 0.6,
) -> dict[str, Any]:
    """Overlap-linked modified kappa for labelled time segments (EasyDIAg / ELAN).

    1. *Linking*: a segment of ``a`` and one of ``b`` are linked when their
       overlap is at least ``min_overlap`` of the longer of the two; conflicts are
       resolved greedily by largest relative overlap, then largest absolute overlap.
    2. *Agreement matrix*: categories × categories plus an "unlinked" row and
       column: a linked pair counts 2 in cell (label_a, label_b) — once per
       segment — an unlinked segment of ``a`` 1 in (label, unlinked), one of ``b``
       1 in (unlinked, label). The (unlinked, unlinked) cell is structurally 0;
       N = n_a + n_b.
    3. κ = (p_o − p_e) / (1 − p_e), p_o = Σ_l T_ll / N, with p_e = Σ_l F_ll / N from
       the expected table F fitted to T's marginals by iterative proportional
       fitting with the structural zero (quasi-independence).

    Returns ``kappa``, ``raw_agreement``, ``chance_agreement``, ``kappa_max``
    ((p_max − p_e)/(1 − p_e), p_max = Σ_l min(r_l, c_l)/N), ``kappa_linked`` and
    ``raw_agreement_linked`` (plain Cohen's kappa on the linked pairs only),
    ``per_label`` (label → kappa of its 2 × 2 yes/no table, as ELAN reports),
    ``labels``, ``table`` (last row/column = unlinked), ``pairs``, ``n_a``, ``n_b``.

    References: Holle, H., & Rein, R. (2015), "EasyDIAg: A tool for easy
    determination of interrater agreement", *Behavior Research Methods* 47(3),
    837–847; the same algorithm as ELAN's "modified kappa" (Max Planck Institute
    for Psycholinguistics), whose default criterion is 60 % overlap. Unlike
    ELAN's port, the fit is run to convergence with an exact structural zero
    (ELAN seeds that cell with 0.001 and stops after 20 iterations, so its
    kappas differ from these by up to about 0.001), and p_max leaves out the
    unlinked row and column, which can never agree.
    """
    thr = _check_threshold(min_overlap, "min_overlap", low_open=True)
    sa, ea, la = _intervals(a, labels_a, "a")
    sb, eb, lb = _intervals(b, labels_b, "b")
    if la is None or lb is None:
        raise ValidationError(
            "labels_a" if la is None else "labels_b",
            "a label for every segment (in the items or labels_a/labels_b)",
        )
    n_a, n_b = len(sa), len(sb)
    if n_a + n_b == 0:
        raise ValidationError("a", "at least one segment from either annotator", "none")
    ov = _overlap_matrix(sa, ea, sb, eb)
    longer = np.maximum((ea - sa)[:, None], (eb - sb)[None])
    rel = ov / longer if ov.size else ov
    cand = np.argwhere((ov > 0) & (rel >= thr - 1e-12))
    if len(cand):
        i, j = cand[:, 0], cand[:, 1]
        key = np.lexsort((j, i, np.minimum(sa[i], sb[j]), -ov[i, j], -rel[i, j]))
        cand = cand[key]
    used_a = np.zeros(n_a, dtype=bool)
    used_b = np.zeros(n_b, dtype=bool)
    pairs: list[tuple[int, int]] = []
    for i, j in cand:
        if not used_a[i] and not used_b[j]:
            used_a[i] = used_b[j] = True
            pairs.append((int(i), int(j)))
    pairs.sort()
    order = _label_order(np.concatenate([la, lb]), None, "labels", need_order=False)
    k = len(order)
    ca, cb = _codes(la, order, "labels_a"), _codes(lb, order, "labels_b")
    table = np.zeros((k + 1, k + 1))
    for i, j in pairs:
        table[ca[i], cb[j]] += 2.0
    np.add.at(table, (ca[~used_a], k), 1.0)
    np.add.at(table, (k, cb[~used_b]), 1.0)
    total = table.sum()
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    mask = np.ones((k + 1, k + 1), dtype=bool)
    mask[k, k] = False
    fitted = _ipf_quasi_independence(rows, cols, mask)
    p_o = float(np.trace(table[:k, :k]) / total)
    p_e = float(np.trace(fitted[:k, :k]) / total)
    p_max = float(np.minimum(rows[:k], cols[:k]).sum() / total)
    per_label: dict[Any, float] = {}
    for lab_i, lab in enumerate(order):
        yy = table[lab_i, lab_i]
        yn = rows[lab_i] - yy
        ny = cols[lab_i] - yy
        two = np.array([[yy, yn], [ny, total - yy - yn - ny]])
        per_label[lab] = cohen_kappa_from_table(two)
    linked = table[:k, :k]
    if linked.sum() > 0:
        kappa_linked = cohen_kappa_from_table(linked)
        raw_linked = float(np.trace(linked) / linked.sum())
    else:
        kappa_linked = raw_linked = NAN
    return {
        "kappa": _ratio(p_o - p_e, 1.0 - p_e),
        "raw_agreement": p_o,
        "chance_agreement": p_e,
        "kappa_max": _ratio(p_max - p_e, 1.0 - p_e),
        "kappa_linked": kappa_linked,
        "raw_agreement_linked": raw_linked,
        "per_label": per_label,
        "labels": order,
        "table": table,
        "pairs": pairs,
        "n_a": n_a,
        "n_b": n_b,
    }


def span_f1(
    a_spans: Any,
    b_spans: Any,
    *,
    mode: Literal["exact", "overlap"] = "exact",
    labels_a: ArrayLike | None = None,
    labels_b: ArrayLike | None = None,
) -> dict[str, Any]:
    """Precision, recall and F1 between two annotators' text spans (``a`` = reference).

    Spans are ``(start, end[, label])`` character offsets (end exclusive),
    mappings or :class:`TextSpan` values; labels optional but then on both sides.
    ``mode="exact"``: a pair agrees when start, end (and label) are equal — the
    CoNLL-2003 convention (Tjong Kim Sang & De Meulder, 2003, "Introduction to
    the CoNLL-2003 shared task", CoNLL); duplicates count as a multiset.
    ``mode="overlap"``: spans with equal labels that share at least one character
    may pair; the one-to-one matching with the most pairs (then the largest
    total IoU) is used. Returns ``precision`` = matched / n_b, ``recall`` =
    matched / n_a, ``f1`` = 2·matched / (n_a + n_b) (``nan`` if undefined),
    ``matched``, ``n_a``, ``n_b``.
    """
    if mode not in ("exact", "overlap"):
        raise ValidationError("mode", "'exact' or 'overlap'", mode)
    sa, ea, la = _intervals(a_spans, labels_a, "a_spans", integer=True)
    sb, eb, lb = _intervals(b_spans, labels_b, "b_spans", integer=True)
    if (la is None) != (lb is None):
        raise ValidationError(
            "b_spans" if lb is None else "a_spans", "labels on both sides or on neither"
        )
    n_a, n_b = len(sa), len(sb)
    if mode == "exact":
        ka = Counter(zip(sa, ea, la if la is not None else [None] * n_a, strict=True))
        kb = Counter(zip(sb, eb, lb if lb is not None else [None] * n_b, strict=True))
        matched = sum((ka & kb).values())
    else:
        ov = _overlap_matrix(sa, ea, sb, eb)
        ok = ov > 0
        if la is not None and lb is not None:
            ok &= la[:, None] == lb[None, :]
        union = (ea - sa)[:, None] + (eb - sb)[None] - ov
        big = float(max(n_a, n_b) + 1)
        score = np.where(ok, big + np.divide(ov, union, out=np.zeros_like(ov), where=ok), 0.0)
        matched = len(match_by_score(score, big, where="overlap")[0]) if ok.any() else 0
    return {
        "precision": _ratio(matched, n_b),
        "recall": _ratio(matched, n_a),
        "f1": _ratio(2 * matched, n_a + n_b),
        "matched": int(matched),
        "n_a": n_a,
        "n_b": n_b,
    }
