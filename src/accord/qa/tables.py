"""Agreement tables over a Session: per annotator pair, class and modality.

Units of comparison (what two annotators must have labelled to be compared):

* boxes and cuboids: one frame (or sweep) of one stream — IoU-matched
  precision/recall/F1 (optimal matching) and label agreement on the matches;
* time segments: one stream — the overlap-linked kappa (EasyDIAg/ELAN) and
  temporal-IoU F1;
* text spans: one stream — span F1 (exact offsets and label);
* tags: one frame (or the whole stream) — Cohen's kappa per pair and
  Krippendorff's alpha (nominal) over all annotators.

Only human annotations count (``source == "human"``): predictions,
imports and consensus results are not annotators.
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from accord.errors import ValidationError
from accord.qa.agreement import (
    cohen_kappa,
    detection_agreement,
    krippendorff_alpha,
    segment_agreement,
    segment_kappa,
    span_f1,
)

if TYPE_CHECKING:
    from accord.session import Session

__all__ = [
    "COLUMNS",
    "LINK_COLUMNS",
    "agreement_table",
    "counterparts",
    "link_agreement",
    "pairwise_iou",
    "shape_vectors",
]

COLUMNS = [
    "modality",
    "kind",
    "label",
    "annotator_a",
    "annotator_b",
    "units",
    "n_a",
    "n_b",
    "matched",
    "precision",
    "recall",
    "f1",
    "label_agreement",
    "kappa",
    "alpha",
]

By = Literal["pair", "class", "modality"]


def _unit_keys(kind: str) -> list[str]:
    return ["item", "stream", "frame"] if kind in ("box", "cuboid", "tag") else ["item", "stream"]


def _ratio(num: float, den: float) -> float:
    return num / den if den else float("nan")


def _pair_rows(df: pd.DataFrame, kind: str, a: str, b: str, label: str | None, cfg: dict) -> dict:
    keys = _unit_keys(kind)
    sa, sb = df[df["annotator"] == a], df[df["annotator"] == b]
    ga = {k: g for k, g in sa.groupby(keys, dropna=False, sort=False)}
    gb = {k: g for k, g in sb.groupby(keys, dropna=False, sort=False)}
    units = sorted(set(ga) | set(gb), key=str)
    n_a = n_b = matched = same = 0
    kappas: list[float] = []
    tags_a: list[Any] = []
    tags_b: list[Any] = []
    empty = df.iloc[0:0]
    for u in units:
        xa, xb = ga.get(u, empty), gb.get(u, empty)
        geo_a, geo_b = list(xa["geometry"]), list(xb["geometry"])
        lab_a, lab_b = list(xa["label"]), list(xb["label"])
        if kind in ("box", "cuboid"):
            if kind == "cuboid":
                geo_a = [[*g["center"], *g["size"], g["yaw"]] for g in geo_a]
                geo_b = [[*g["center"], *g["size"], g["yaw"]] for g in geo_b]
            r = detection_agreement(
                geo_a,
                geo_b,
                kind=kind,
                iou_threshold=cfg["iou_threshold"],
                labels_a=lab_a,
                labels_b=lab_b,
            )
            n_a, n_b, matched = n_a + r["n_a"], n_b + r["n_b"], matched + r["matched"]
            same += r.get("matched_same_label", 0)
        elif kind == "time_segment":
            seg_a = [(g["start"], g["end"]) for g in geo_a]
            seg_b = [(g["start"], g["end"]) for g in geo_b]
            r = segment_agreement(
                seg_a, seg_b, labels_a=lab_a, labels_b=lab_b, iou_threshold=cfg["iou_threshold"]
            )
            n_a, n_b = n_a + len(seg_a), n_b + len(seg_b)
            matched += r.get("matched", 0)
            same += r.get("matched_same_label", r.get("matched", 0))
            if seg_a and seg_b:
                k = segment_kappa(
                    seg_a, seg_b, labels_a=lab_a, labels_b=lab_b, min_overlap=cfg["min_overlap"]
                )["kappa"]
                if np.isfinite(k):
                    kappas.append(k)
        elif kind == "text_span":
            sp_a = [(g["start"], g["end"]) for g in geo_a]
            sp_b = [(g["start"], g["end"]) for g in geo_b]
            r = span_f1(sp_a, sp_b, labels_a=lab_a, labels_b=lab_b)
            n_a, n_b, matched = n_a + r["n_a"], n_b + r["n_b"], matched + r["matched"]
            same += r["matched"]
        else:  # tag: one label per unit and annotator (the first, if several)
            if lab_a and lab_b:
                tags_a.append(lab_a[0])
                tags_b.append(lab_b[0])
            n_a, n_b = n_a + len(lab_a), n_b + len(lab_b)
    row = {
        "kind": kind,
        "label": label,
        "annotator_a": a,
        "annotator_b": b,
        "units": len(units),
        "n_a": n_a,
        "n_b": n_b,
    }
    if kind == "tag":
        row["matched"] = len(tags_a)
        row["label_agreement"] = _ratio(
            sum(x == y for x, y in zip(tags_a, tags_b, strict=True)), len(tags_a)
        )
        row["kappa"] = cohen_kappa(tags_a, tags_b) if len(tags_a) > 1 else float("nan")
    else:
        row["matched"] = matched
        row["precision"] = _ratio(matched, n_b)
        row["recall"] = _ratio(matched, n_a)
        row["f1"] = _ratio(2 * matched, n_a + n_b)
        row["label_agreement"] = _ratio(same, matched)
        row["kappa"] = float(np.mean(kappas)) if kappas else float("nan")
    return row


def agreement_table(
    session: Session,
    *,
    by: By = "pair",
    items: list[str] | None = None,
    iou_threshold: float = 0.5,
    min_overlap: float = 0.6,
) -> pd.DataFrame:
    """Agreement between every pair of annotators, per modality and geometry kind.

    ``by="pair"`` gives one row per (modality, kind, annotator pair);
    ``by="class"`` splits each row by class (F1 within the class);
    ``by="modality"`` pools the pairs of each modality (counts summed, then
    precision/recall/F1 recomputed). Tag rows also carry Krippendorff's alpha
    over all annotators.
    """
    if by not in ("pair", "class", "modality"):
        raise ValidationError("agreement(by=...)", "'pair', 'class' or 'modality'", by)
    cfg = {"iou_threshold": iou_threshold, "min_overlap": min_overlap}
    df = session.annotations
    df = df[df["source"] == "human"]
    if items is not None:
        df = df[df["item"].isin(items)]
    df = df[df["kind"].isin(["box", "cuboid", "time_segment", "text_span", "tag"])]
    rows = []
    for (modality, kind), group in df.groupby(["modality", "kind"], sort=True):
        annotators = sorted(group["annotator"].unique())
        labels: list[str | None] = sorted(group["label"].unique()) if by == "class" else [None]
        for label in labels:
            sub = group if label is None else group[group["label"] == label]
            for a, b in combinations(annotators, 2):
                row = _pair_rows(sub, kind, a, b, label, cfg)
                row["modality"] = modality
                rows.append(row)
            if kind == "tag" and len(annotators) > 1:
                alpha = _tag_alpha(sub, annotators)
                for row in rows[-len(list(combinations(annotators, 2))) :]:
                    row["alpha"] = alpha
    out = pd.DataFrame(rows, columns=COLUMNS)
    if by == "modality" and len(out):
        sums = out.groupby(["modality", "kind"], as_index=False)[
            ["units", "n_a", "n_b", "matched"]
        ].sum()
        sums["annotator_a"], sums["annotator_b"], sums["label"] = "*", "*", None
        sums["precision"] = sums["matched"] / sums["n_b"].replace(0, np.nan)
        sums["recall"] = sums["matched"] / sums["n_a"].replace(0, np.nan)
        sums["f1"] = 2 * sums["matched"] / (sums["n_a"] + sums["n_b"]).replace(0, np.nan)
        means = out.groupby(["modality", "kind"], as_index=False)[
            ["label_agreement", "kappa", "alpha"]
        ].mean()
        out = sums.merge(means, on=["modality", "kind"])[COLUMNS]
    return out.reset_index(drop=True)


def _tag_alpha(df: pd.DataFrame, annotators: list[str]) -> float:
    keys = _unit_keys("tag")
    firsts = df.groupby([*keys, "annotator"], dropna=False, sort=False)["label"].first()
    table = firsts.unstack("annotator").reindex(columns=annotators)
    data = table.T.to_numpy(dtype=object)
    try:
        return krippendorff_alpha(data, level="nominal")
    except ValidationError:
        return float("nan")


# -- the link graph -------------------------------------------------------------------

LINK_COLUMNS = [
    "link_type",
    "annotator_a",
    "annotator_b",
    "n_a",
    "n_b",
    "matched",
    "precision",
    "recall",
    "f1",
]


def shape_vectors(kind: str, geoms: list[dict[str, Any]]) -> np.ndarray:
    """Geometries of one kind as rows: boxes ``x,y,w,h``; cuboids ``cx..yaw``; ``start,end``."""
    if kind == "box":
        return np.array([[g["x"], g["y"], g["w"], g["h"]] for g in geoms], dtype=float)
    if kind == "cuboid":
        return np.array([[*g["center"], *g["size"], g["yaw"]] for g in geoms], dtype=float)
    if kind in ("time_segment", "text_span"):
        return np.array([[g["start"], g["end"]] for g in geoms], dtype=float)
    return np.zeros((len(geoms), 0))


def pairwise_iou(kind: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of two sets of :func:`shape_vectors` (tags of one unit all match)."""
    from accord.model.geometry import box_iou_matrix
    from accord.qa.agreement import cuboid_iou_matrix

    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    if kind == "box":
        return box_iou_matrix(a, b)
    if kind == "cuboid":
        return cuboid_iou_matrix(a, b)
    if kind in ("time_segment", "text_span"):
        inter = np.clip(
            np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0]),
            0,
            None,
        )
        union = (a[:, 1] - a[:, 0])[:, None] + (b[:, 1] - b[:, 0])[None] - inter
        return np.where(union > 0, inter / union, 0.0)
    return np.ones((len(a), len(b)))  # tags: the unit is the match


def counterparts(df: pd.DataFrame, a: str, b: str, *, iou_threshold: float = 0.5) -> dict[str, str]:
    """Annotation ids of ``a`` → their matched counterparts of ``b`` (same unit and kind).

    Matching is one-to-one with the maximum total IoU among pairs at or above
    the threshold (temporal/character IoU for segments and spans; tags match
    within their unit), labels ignored.
    """
    from accord.qa.matching import match_by_score

    out: dict[str, str] = {}
    pair = df[df["annotator"].isin([a, b])]
    for kind, group in pair.groupby("kind", sort=False):
        keys = _unit_keys(str(kind))
        for _, unit in group.groupby(keys, dropna=False, sort=False):
            ua, ub = unit[unit["annotator"] == a], unit[unit["annotator"] == b]
            if ua.empty or ub.empty:
                continue
            ious = pairwise_iou(
                str(kind),
                shape_vectors(str(kind), list(ua["geometry"])),
                shape_vectors(str(kind), list(ub["geometry"])),
            )
            pairs, _ = match_by_score(ious, iou_threshold)
            ida, idb = ua["id"].to_numpy(), ub["id"].to_numpy()
            out.update({str(ida[i]): str(idb[j]) for i, j in pairs})
    return out


def link_agreement(
    session: Session, *, items: list[str] | None = None, iou_threshold: float = 0.5
) -> pd.DataFrame:
    """Agreement on the link graph: did two annotators link the same things the same way?

    Each annotator's links join their own annotations; a link ``s → t`` of
    type ``T`` by ``a`` agrees with ``b`` when ``b`` has a ``T`` link between
    the counterparts of ``s`` and ``t`` (see :func:`counterparts`). One row per
    link type and annotator pair: ``n_a``, ``n_b``, ``matched``, precision
    (of ``b`` against ``a``), recall and F1.
    """
    ann = session.annotations
    ann = ann[ann["source"] == "human"]
    if items is not None:
        ann = ann[ann["item"].isin(items)]
    links = session.links
    links = links[links["source"].isin(ann.index) & links["target"].isin(ann.index)]
    owner = ann["annotator"]
    links = links.assign(by_source=links["source"].map(owner), by_target=links["target"].map(owner))
    links = links[links["by_source"] == links["by_target"]]  # links within one annotator's work
    rows = []
    annotators = sorted(links["by_source"].unique())
    for a, b in combinations(annotators, 2):
        match = counterparts(ann, a, b, iou_threshold=iou_threshold)
        for link_type, group in links.groupby("type", sort=True):
            la = group[group["by_source"] == a]
            lb = group[group["by_source"] == b]
            b_set = set(zip(lb["source"], lb["target"], strict=True))
            matched = sum(
                (match.get(s), match.get(t)) in b_set
                for s, t in zip(la["source"], la["target"], strict=True)
            )
            n_a, n_b = len(la), len(lb)
            rows.append(
                {
                    "link_type": link_type,
                    "annotator_a": a,
                    "annotator_b": b,
                    "n_a": n_a,
                    "n_b": n_b,
                    "matched": matched,
                    "precision": _ratio(matched, n_b),
                    "recall": _ratio(matched, n_a),
                    "f1": _ratio(2 * matched, n_a + n_b),
                }
            )
    return pd.DataFrame(rows, columns=LINK_COLUMNS)
