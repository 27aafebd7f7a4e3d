"""Conflict resolution: consensus annotations from several annotators, with provenance.

For each unit (a frame of a stream for boxes/cuboids/tags, a stream for
segments), annotations of the human annotators are clustered across
annotators by optimal IoU matching (temporal IoU for segments): the first
annotator's shapes seed the clusters, each next annotator's shapes are
matched one-to-one to the clusters' current means, unmatched ones start new
clusters. A cluster becomes a consensus annotation when enough annotators
are in it:

* ``method="majority"``: more than half of the annotators who labelled that
  stream of the item;
* ``method="k_of_n"``: at least ``k`` of them.

The consensus class and every attribute are majority votes (ties go to the
value seen first and are flagged); geometry is the mean box / the median
segment / the mean cuboid (circular mean of yaw). ``priority`` settles a field
by modality across linked annotations — ``{"label": "pointcloud"}`` means "3-D
decides the class": a 2-D cluster whose members are linked to members of a
point-cloud cluster takes that cluster's class, while its extent still comes
from the 2-D shapes.

Consensus annotations have ``source="consensus"``, annotator ``consensus`` and
``sources`` = the ids they were made from. They are stored in one command.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from accord.errors import ValidationError
from accord.model.taxonomy import MODALITIES
from accord.qa.agreement import match_by_score
from accord.qa.tables import pairwise_iou, shape_vectors

if TYPE_CHECKING:
    from accord.session import Session

__all__ = ["Cluster", "consensus", "resolve"]

KINDS = ("box", "cuboid", "time_segment", "tag")


@dataclass
class Cluster:
    """Annotations of several annotators taken to be the same thing."""

    item: str
    stream: str
    kind: str
    frame: int | None
    modality: str
    members: list[dict[str, Any]] = field(default_factory=list)

    @property
    def annotators(self) -> set[str]:
        return {m["annotator"] for m in self.members}

    def vector(self) -> np.ndarray:
        return np.mean([_vector(self.kind, m["geometry"]) for m in self.members], axis=0)


def _vector(kind: str, g: dict[str, Any]) -> np.ndarray:
    return shape_vectors(kind, [g])[0]


def _cluster_unit(rows: pd.DataFrame, kind: str, threshold: float) -> list[list[dict[str, Any]]]:
    clusters: list[list[dict[str, Any]]] = []
    for _, group in rows.groupby("annotator", sort=True):
        recs = group.to_dict("records")
        if kind == "tag":
            recs = recs[:1]  # one tag per annotator and unit
        if not clusters:
            clusters = [[r] for r in recs]
            continue
        means = np.array(
            [np.mean([_vector(kind, m["geometry"]) for m in c], axis=0) for c in clusters]
        )
        mine = np.array([_vector(kind, r["geometry"]) for r in recs])
        pairs, _ = match_by_score(pairwise_iou(kind, means, mine), threshold)
        taken = set()
        for ci, ri in pairs:
            clusters[int(ci)].append(recs[int(ri)])
            taken.add(int(ri))
        clusters += [[r] for i, r in enumerate(recs) if i not in taken]
    return clusters


def _vote(values: list[Any]) -> tuple[Any, bool]:
    """Majority value (first seen wins a tie) and whether there was a tie."""
    counts = Counter(map(repr, values))
    best = max(counts.values())
    winners = [v for v in values if counts[repr(v)] == best]
    return winners[0], len({repr(w) for w in winners}) > 1


def _geometry(kind: str, members: list[dict[str, Any]]) -> dict[str, Any]:
    vecs = np.array([_vector(kind, m["geometry"]) for m in members])
    if kind == "box":
        x, y, w, h = vecs.mean(axis=0)
        return {"x": float(x), "y": float(y), "w": float(w), "h": float(h)}
    if kind == "cuboid":
        m = vecs.mean(axis=0)
        yaw = math.atan2(float(np.sin(vecs[:, 6]).mean()), float(np.cos(vecs[:, 6]).mean()))
        return {"center": [float(v) for v in m[:3]], "size": [float(v) for v in m[3:6]], "yaw": yaw}
    if kind == "time_segment":
        start, end = np.median(vecs, axis=0)
        return {"start": float(start), "end": float(end)}
    return {}


def consensus(
    session: Session,
    *,
    items: list[str] | None = None,
    method: Literal["majority", "k_of_n"] = "majority",
    k: int | None = None,
    iou_threshold: float = 0.5,
    priority: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """Consensus annotation payloads and a report, without storing anything."""
    if method not in ("majority", "k_of_n"):
        raise ValidationError("resolve(method=...)", "'majority' or 'k_of_n'", method)
    if method == "k_of_n" and (not isinstance(k, int) or k < 1):
        raise ValidationError("resolve(k=...)", "an integer ≥ 1 with method='k_of_n'", k)
    for fld, modality in (priority or {}).items():
        if fld != "label" or modality not in MODALITIES:
            raise ValidationError(
                f"resolve(priority[{fld!r}])",
                f"'label' → a modality among {list(MODALITIES)}",
                modality,
            )
    ann = session.annotations
    ann = ann[(ann["source"] == "human") & ann["kind"].isin(KINDS)]
    if items is not None:
        ann = ann[ann["item"].isin(items)]
    clusters: list[Cluster] = []
    for (item, stream, kind), group in ann.groupby(["item", "stream", "kind"], sort=True):
        n = group["annotator"].nunique()
        need = (n // 2 + 1) if method == "majority" else int(k or 1)
        unit_keys = ["frame"] if kind in ("box", "cuboid", "tag") else []
        units = group.groupby(unit_keys, dropna=False, sort=True) if unit_keys else [(None, group)]
        for _, rows in units:
            for members in _cluster_unit(rows, kind, iou_threshold):
                c = Cluster(
                    item, stream, kind, members[0]["frame"], members[0]["modality"], members
                )
                c.need = need  # type: ignore[attr-defined]
                clusters.append(c)
    member_of = {m["id"]: i for i, c in enumerate(clusters) for m in c.members}
    links = session.links
    payloads, report = [], []
    for i, c in enumerate(clusters):
        kept = len(c.annotators) >= c.need  # type: ignore[attr-defined]
        label, tie = _vote([m["label"] for m in c.members])
        decided_by = "vote"
        if priority and "label" in priority and c.modality != priority["label"]:
            ids = [m["id"] for m in c.members]
            near = links[links["source"].isin(ids) | links["target"].isin(ids)]
            others = {member_of.get(x) for x in [*near["source"], *near["target"]]} - {i, None}
            ruling = [clusters[j] for j in others if clusters[j].modality == priority["label"]]
            if ruling:
                label, tie = _vote([m["label"] for r in ruling for m in r.members])
                decided_by = priority["label"]
        keys = sorted({k for m in c.members for k in m["attributes"]})
        attributes = {}
        for key in keys:
            value, _ = _vote([m["attributes"][key] for m in c.members if key in m["attributes"]])
            attributes[key] = value
        report.append(
            {
                "item": c.item,
                "stream": c.stream,
                "kind": c.kind,
                "frame": c.frame,
                "members": [m["id"] for m in c.members],
                "annotators": sorted(c.annotators),
                "kept": kept,
                "label": label,
                "tie": tie,
                "label_from": decided_by,
            }
        )
        if kept:
            payloads.append(
                {
                    "item": c.item,
                    "stream": c.stream,
                    "label": label,
                    "kind": c.kind,
                    "geometry": _geometry(c.kind, c.members),
                    "frame": c.frame,
                    "attributes": attributes,
                    "source": "consensus",
                    "sources": [m["id"] for m in c.members],
                }
            )
    return payloads, pd.DataFrame(report)


def resolve(session: Session, **kwargs: Any) -> tuple[list[str], pd.DataFrame]:
    """Compute the consensus and store it (one command) under the annotator ``consensus``."""
    payloads, report = consensus(session, **kwargs)
    if not payloads:
        return [], report
    with session._lock:
        previous, session.annotator = session.annotator, "consensus"
        try:
            result = session.apply({"type": "annotations.add", "annotations": payloads})
        finally:
            session.annotator = previous
    report["consensus"] = None
    kept = report.index[report["kept"]]
    report.loc[kept, "consensus"] = list(result.ids)
    return list(result.ids), report
