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

__all__ = ["COLUMNS", "agreement_table"]

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
