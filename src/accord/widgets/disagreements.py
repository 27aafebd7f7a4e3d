"""``Disagreements``: where annotators disagree, and the items to look at.

A thin facade (in the manner of jupyter-scatter) over widgets that exist:

- a heatmap of F1 per annotator pair × class (boxes and cuboids) and per pair
  × kind (time segments, text spans), drawn by altair in an ``alt.JupyterChart``;
- the label confusion matrix of the selected pair (labels of IoU-matched shapes);
- the items where the selected pair disagrees on the selected cell, worst
  first, in an ipywidgets ``Select`` (plain widget text, never HTML);
- two :class:`~accord.widgets.RegionCanvas` side by side on the chosen item,
  each showing one annotator's labels, at the first frame where they differ.

A click on a heatmap cell calls :meth:`Disagreements.select` and choosing an
item calls :meth:`Disagreements.open`: scripts and tests use those same methods.

The pure parts (:func:`label_confusion`, :func:`first_disagreement`) take a
DataFrame shaped like ``Session.annotations`` and need no widget.
"""

from __future__ import annotations

import functools
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import ipywidgets as W
import numpy as np
import pandas as pd

from accord.errors import AccordError, ValidationError
from accord.qa.agreement import cuboid_iou_matrix, match_boxes
from accord.qa.tables import agreement_table
from accord.widgets.region_canvas import SPATIAL_KINDS, RegionCanvas

if TYPE_CHECKING:
    import altair as alt

    from accord.session import Session

__all__ = ["Cell", "Disagreements", "first_disagreement", "label_confusion"]

log = logging.getLogger(__name__)

#: Kinds compared per class (IoU-matched shapes) and per kind (timed / text).
SPATIAL = ("box", "cuboid")
TIMED = ("time_segment", "text_span")
KIND_TITLES = {
    "box": "boxes",
    "cuboid": "cuboids",
    "time_segment": "time segments",
    "text_span": "text spans",
}
PAIR_SEP = " · "
CELL_COLUMNS = [
    "pair",
    "annotator_a",
    "annotator_b",
    "column",
    "label",
    "kinds",
    "n_a",
    "n_b",
    "matched",
    "f1",
    "label_agreement",
    "key",
]
ITEM_COLUMNS = [
    "item",
    "f1",
    "n_a",
    "n_b",
    "matched",
    "label_agreement",
    "kind",
    "stream",
    "frame",
    "annotation_a",
    "annotation_b",
]


# -- pure functions -------------------------------------------------------------------


def _unit_keys(kind: str) -> list[str]:
    return ["item", "stream", "frame"] if kind in SPATIAL else ["item", "stream"]


def _interval_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``(N, 2)`` and ``(M, 2)`` arrays of ``[start, end]``."""
    inter = np.clip(
        np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0]),
        0,
        None,
    )
    union = (a[:, 1] - a[:, 0])[:, None] + (b[:, 1] - b[:, 0])[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _same_span(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 where two text spans have the same offsets (span F1 matches exact spans), else 0."""
    return ((a[:, None, 0] == b[None, :, 0]) & (a[:, None, 1] == b[None, :, 1])).astype(float)


def _match(kind: str, geo_a: list[Any], geo_b: list[Any], iou_threshold: float) -> np.ndarray:
    """``(k, 2)`` indices of the one-to-one IoU matching of two annotators' shapes in one unit."""
    if not geo_a or not geo_b:
        return np.zeros((0, 2), dtype=np.intp)
    if kind == "box":
        pairs, _ = match_boxes(geo_a, geo_b, iou_threshold=iou_threshold)
        return pairs
    if kind == "cuboid":
        cub_a = [[*g["center"], *g["size"], g["yaw"]] for g in geo_a]
        cub_b = [[*g["center"], *g["size"], g["yaw"]] for g in geo_b]
        pairs, _ = match_boxes(cub_a, cub_b, iou_threshold=iou_threshold, iou_fn=cuboid_iou_matrix)
        return pairs
    seg_a = np.array([[g["start"], g["end"]] for g in geo_a], dtype=float)
    seg_b = np.array([[g["start"], g["end"]] for g in geo_b], dtype=float)
    fn: Callable[[np.ndarray, np.ndarray], np.ndarray] = (
        _interval_iou if kind == "time_segment" else _same_span
    )
    pairs, _ = match_boxes(seg_a, seg_b, iou_threshold=iou_threshold, iou_fn=fn)
    return pairs


def _units(
    annotations: pd.DataFrame,
    a: str,
    b: str,
    kinds: Sequence[str],
    iou_threshold: float,
    label: str | None = None,
) -> Iterator[tuple[str, dict[str, Any], pd.DataFrame, pd.DataFrame, np.ndarray]]:
    """``(kind, unit, a's rows, b's rows, matched index pairs)`` for every unit, in order.

    A unit is one frame of one stream for boxes and cuboids, one stream for
    segments and spans. Only human annotations count. With ``label``, only
    that class is compared (as in the per-class agreement table); without,
    shapes are matched whatever their labels.
    """
    df = annotations
    df = df[(df["source"] == "human") & df["kind"].isin(list(kinds)) & df["annotator"].isin([a, b])]
    if label is not None:
        df = df[df["label"] == label]
    for kind, group in df.groupby("kind", sort=True):
        keys = _unit_keys(str(kind))
        for unit, rows in group.groupby(keys, sort=True, dropna=False):
            xa, xb = rows[rows["annotator"] == a], rows[rows["annotator"] == b]
            pairs = _match(str(kind), list(xa["geometry"]), list(xb["geometry"]), iou_threshold)
            yield str(kind), dict(zip(keys, unit, strict=True)), xa, xb, pairs


def label_confusion(
    annotations: pd.DataFrame,
    a: str,
    b: str,
    *,
    kinds: Sequence[str] = SPATIAL,
    iou_threshold: float = 0.5,
) -> pd.DataFrame:
    """How often ``a``'s label meets ``b``'s on the same shape.

    Shapes of ``kinds`` are matched one-to-one per unit by IoU (``match_boxes``:
    the matching of highest total IoU among pairs with IoU ≥ ``iou_threshold``;
    time segments by temporal IoU, text spans by exact offsets), whatever their
    labels; every matched pair counts once for ``(label by a, label by b)``.
    Returns columns ``label_a, label_b, count`` (nonzero cells only, sorted).
    ``annotations`` is shaped like ``Session.annotations``; only human
    annotations count.
    """
    _check_pair(a, b, "label_confusion")
    counts: Counter[tuple[str, str]] = Counter()
    for _kind, _unit, xa, xb, pairs in _units(annotations, a, b, kinds, iou_threshold):
        la, lb = xa["label"].to_numpy(), xb["label"].to_numpy()
        for i, j in pairs:
            counts[(str(la[i]), str(lb[j]))] += 1
    rows = [{"label_a": x, "label_b": y, "count": n} for (x, y), n in sorted(counts.items())]
    return pd.DataFrame(rows, columns=["label_a", "label_b", "count"]).astype({"count": "int64"})


def first_disagreement(
    annotations: pd.DataFrame,
    item: str,
    a: str,
    b: str,
    *,
    kinds: Sequence[str] = SPATIAL,
    label: str | None = None,
    iou_threshold: float = 0.5,
) -> dict[str, Any] | None:
    """Where ``a`` and ``b`` first disagree on ``item``: the unit and one annotation each.

    Units are visited by kind, stream and frame; the first one with a shape left
    unmatched (or, without ``label``, a matched pair whose labels differ) is
    returned as ``{kind, stream, frame, annotation_a, annotation_b}`` (frame
    None for segments and spans; an annotation id None when that side has
    nothing to point at). None when they agree everywhere on the item.
    """
    _check_pair(a, b, "first_disagreement")
    df = annotations[annotations["item"] == item]
    for kind, unit, xa, xb, pairs in _units(df, a, b, kinds, iou_threshold, label):
        ids_a, ids_b = list(xa["id"]), list(xb["id"])
        la, lb = xa["label"].to_numpy(), xb["label"].to_numpy()
        matched_a = {int(i) for i, _ in pairs}
        matched_b = {int(j) for _, j in pairs}
        relabelled = [(int(i), int(j)) for i, j in pairs if label is None and la[i] != lb[j]]
        lonely_a = [i for i in range(len(ids_a)) if i not in matched_a]
        lonely_b = [j for j in range(len(ids_b)) if j not in matched_b]
        if not (relabelled or lonely_a or lonely_b):
            continue
        ia = relabelled[0][0] if relabelled else (lonely_a[0] if lonely_a else None)
        ib = relabelled[0][1] if relabelled else (lonely_b[0] if lonely_b else None)
        frame = unit.get("frame")
        return {
            "kind": kind,
            "stream": unit["stream"],
            "frame": None if frame is None or pd.isna(frame) else int(frame),
            "annotation_a": None if ia is None else ids_a[ia],
            "annotation_b": None if ib is None else ids_b[ib],
        }
    return None


def _check_pair(a: Any, b: Any, where: str) -> None:
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        raise ValidationError(f"{where}(a, b)", "two annotator names", (a, b))
    if a == b:
        raise ValidationError(f"{where}(a, b)", "two different annotators", (a, b))


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def _label_of(value: Any) -> str | None:
    """A class name from a table cell (None/NaN: no class, a kind-level cell)."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _pooled_label_agreement(rows: pd.DataFrame) -> float:
    """Label agreement of agreement-table rows pooled: weighted by their matched counts."""
    la = rows["label_agreement"].astype(float)
    ok = la.notna() & (rows["matched"] > 0)
    matched = rows["matched"][ok].astype(float)
    return _ratio(float((la[ok] * matched).sum()), float(matched.sum()))


# -- charts ------------------------------------------------------------------------------


@functools.cache
def _chart_class() -> type:
    """``alt.JupyterChart``, with vega-embed bundled in when vl-convert-python is installed.

    altair's own widget loads vega-embed from a CDN in the page; bundled
    (``enable_offline``, on a subclass so other charts are left alone) it works
    without a network. The bundle is built once per process (~3 s).
    """
    import altair as alt

    try:
        import vl_convert  # noqa: F401
    except ImportError:
        return alt.JupyterChart

    class OfflineJupyterChart(alt.JupyterChart):
        """``alt.JupyterChart`` with its JavaScript bundled (no CDN)."""

    try:
        OfflineJupyterChart.enable_offline()
    except (ImportError, RuntimeError) as exc:  # e.g. a vl-convert too old for this altair
        log.warning("charts load vega-embed from a CDN: bundling failed (%s)", exc)
        return alt.JupyterChart
    return OfflineJupyterChart


def _chart_widget(chart: alt.TopLevelMixin) -> Any:
    return _chart_class()(chart, embed_options={"renderer": "svg", "actions": False})


def _heatmap(cells: pd.DataFrame, title: str) -> alt.LayerChart:
    import altair as alt

    data = cells.assign(
        f1_text=[("—" if pd.isna(v) else f"{v:.2f}") for v in cells["f1"]],
        label_agreement=cells["label_agreement"].astype(float),
    ).drop(columns=["kinds"])
    cell = alt.selection_point(name="cell", fields=["key"], on="click", clear=False)
    chosen = alt.param(name="chosen", value="")
    pairs = list(dict.fromkeys(cells["pair"]))
    columns = list(dict.fromkeys(cells["column"]))
    base = alt.Chart(data).encode(
        x=alt.X("column:N", title="class / kind", sort=columns, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("pair:N", title="annotator pair", sort=pairs),
    )
    rect = (
        base.mark_rect(cursor="pointer")
        .encode(
            color=alt.Color(
                "f1:Q",
                title="F1",
                scale=alt.Scale(domain=[0, 1], scheme="redyellowgreen"),
            ),
            stroke=alt.condition(alt.datum.key == chosen, alt.value("#111"), alt.value(None)),
            strokeWidth=alt.condition(alt.datum.key == chosen, alt.value(3), alt.value(0)),
            tooltip=[
                alt.Tooltip("pair:N", title="pair"),
                alt.Tooltip("column:N", title="class / kind"),
                alt.Tooltip("f1:Q", title="F1", format=".2f"),
                alt.Tooltip("n_a:Q", title="n_a"),
                alt.Tooltip("n_b:Q", title="n_b"),
                alt.Tooltip("matched:Q", title="matched"),
                alt.Tooltip("label_agreement:Q", title="label agreement", format=".2f"),
            ],
        )
        .add_params(cell, chosen)
    )
    text = base.mark_text(fontSize=11).encode(text="f1_text:N")
    return alt.layer(rect, text).properties(width=alt.Step(56), height=alt.Step(30), title=title)


def _confusion_chart(conf: pd.DataFrame, a: str, b: str, title: str) -> alt.LayerChart:
    import altair as alt

    labels = sorted(set(conf["label_a"]) | set(conf["label_b"]))
    base = alt.Chart(conf).encode(
        x=alt.X("label_b:N", title=f"label by {b}", sort=labels, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("label_a:N", title=f"label by {a}", sort=labels),
    )
    rect = base.mark_rect().encode(
        # No legend: the counts are written in the cells (and two SVG gradients in one
        # page would share an id).
        color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), legend=None),
        tooltip=[
            alt.Tooltip("label_a:N", title=f"label by {a}"),
            alt.Tooltip("label_b:N", title=f"label by {b}"),
            alt.Tooltip("count:Q", title="matched shapes"),
        ],
    )
    text = base.mark_text(fontSize=11).encode(text="count:Q")
    return alt.layer(rect, text).properties(width=alt.Step(40), height=alt.Step(26), title=title)


def _empty_chart(title: str) -> alt.Chart:
    import altair as alt

    return (
        alt.Chart(pd.DataFrame({"x": []}))
        .mark_point()
        .properties(width=160, height=40, title=title)
    )


# -- the widget ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One heatmap cell: an annotator pair and a class (or, for segments/spans, a kind)."""

    annotator_a: str
    annotator_b: str
    column: str
    label: str | None
    kinds: tuple[str, ...]

    @property
    def pair(self) -> tuple[str, str]:
        return self.annotator_a, self.annotator_b

    @property
    def key(self) -> str:
        return json.dumps([self.annotator_a, self.annotator_b, self.label, list(self.kinds)])


class Disagreements(W.VBox):
    """Where annotators disagree: agreement heatmap, confusion matrix, items, side-by-side view.

    >>> w = ac.widgets.Disagreements(s)                 # doctest: +SKIP
    >>> w.select(pair=("ana", "bob"), label="car")      # what a click on a cell does
    >>> w.items                                         # the items listed, worst first
    >>> w.open(w.items.item[0])                         # two canvases: ana's and bob's

    ``by="class"``: boxes and cuboids per class (F1 within the class, as in
    ``Session.agreement(by="class")``), time segments and text spans per kind;
    ``by="pair"``: every kind per kind, classes pooled (label agreement counts).
    The view is computed when built; :meth:`refresh` (or its button) recomputes
    it after edits.
    """

    def __init__(
        self,
        session: Session,
        *,
        by: Literal["class", "pair"] = "class",
        iou_threshold: float = 0.5,
        height: int = 360,
    ) -> None:
        if by not in ("class", "pair"):
            raise ValidationError("Disagreements(by=...)", "'class' or 'pair'", by)
        if not isinstance(iou_threshold, int | float) or not 0 < iou_threshold <= 1:
            raise ValidationError(
                "Disagreements(iou_threshold=...)", "a number in (0, 1]", iou_threshold
            )
        self._session = session
        self._by = by
        self._iou = float(iou_threshold)
        self._height = height
        self._cell: Cell | None = None
        self._items = pd.DataFrame(columns=ITEM_COLUMNS)
        self._confusion = pd.DataFrame(columns=["label_a", "label_b", "count"])
        self._canvases: tuple[RegionCanvas, RegionCanvas] | None = None
        self._item_tables: dict[tuple[str, str], pd.DataFrame] = {}
        self._quiet = False

        self._heatmap = _chart_widget(_empty_chart(""))
        self._heatmap.add_class("accord-disagreements-heatmap")
        self._confusion_view = _chart_widget(_empty_chart("choose a cell"))
        self._confusion_view.add_class("accord-disagreements-confusion")
        self._refresh_button = W.Button(
            description="Refresh", icon="refresh", tooltip="Recompute from the session"
        )
        self._refresh_button.on_click(lambda _b: self.refresh())
        self._status = W.Label(value="")
        self._status.add_class("accord-disagreements-status")
        self._list = W.Select(
            options=[], value=None, rows=8, layout=W.Layout(width="100%", display="none")
        )
        self._list.add_class("accord-disagreements-items")
        self._list.observe(self._on_item_chosen, names="value")
        self._message = W.Label(value="")
        self._message.add_class("accord-disagreements-message")
        self._side_by_side = W.HBox([], layout=W.Layout(width="100%"))
        self._side_by_side.add_class("accord-disagreements-canvases")
        super().__init__(
            [
                W.HBox([self._refresh_button, self._status]),
                W.HBox(
                    [self._heatmap, self._confusion_view], layout=W.Layout(flex_flow="row wrap")
                ),
                self._list,
                self._message,
                self._side_by_side,
            ]
        )
        self.add_class("accord-disagreements")
        self.refresh()

    # -- public API ------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        return self._session

    @property
    def table(self) -> pd.DataFrame:
        """The heatmap's cells: one row per (pair, class or kind) with counts, F1, agreement."""
        return self._cells.drop(columns=["key"]).copy()

    @property
    def cell(self) -> Cell | None:
        """The selected cell (None before a click or :meth:`select`)."""
        return self._cell

    @property
    def items(self) -> pd.DataFrame:
        """Items where the selected pair disagrees on the selected cell, worst (lowest F1) first.

        Columns: ``item, f1, n_a, n_b, matched, label_agreement`` (for that item,
        from ``agreement_table(items=[item])``) and where they first disagree:
        ``kind, stream, frame, annotation_a, annotation_b``.
        """
        return self._items.copy()

    @property
    def confusion(self) -> pd.DataFrame:
        """The selected pair's label confusion (see :func:`label_confusion`)."""
        return self._confusion.copy()

    @property
    def heatmap(self) -> Any:
        """The heatmap's ``alt.JupyterChart`` (its ``selections.cell`` is the clicked cell)."""
        return self._heatmap

    @property
    def item_list(self) -> W.Select:
        """The list of items (choosing one opens it)."""
        return self._list

    @property
    def canvases(self) -> tuple[RegionCanvas, ...]:
        """The two canvases of the opened item (annotator a's, annotator b's), or ()."""
        return self._canvases or ()

    def refresh(self) -> None:
        """Recompute the heatmap (and the selected cell's items) from the session."""
        self._item_tables.clear()
        self._cells = self._compute_cells()
        n_pairs = self._cells["pair"].nunique()
        title = f"F1 per annotator pair (IoU ≥ {self._iou:g})"
        if len(self._cells):
            self._set_heatmap(_heatmap(self._cells, title))
        else:
            self._set_heatmap(_empty_chart("no two annotators' labels to compare yet"))
        cell = self._cell
        if cell is not None and cell.key in set(self._cells["key"]):
            self._apply(cell)
        else:
            self._cell = None
            self._status.value = (
                f"{n_pairs} annotator pair{'s' if n_pairs != 1 else ''}: "
                "click a cell to list the items where they disagree"
                if len(self._cells)
                else "agreement needs labels by at least two annotators"
            )

    def select(
        self,
        pair: tuple[str, str] | Sequence[str],
        label: str | None = None,
        *,
        kind: str | None = None,
    ) -> pd.DataFrame:
        """Select a heatmap cell: list the items where ``pair`` disagrees on it.

        ``label`` names a class (boxes and cuboids with ``by="class"``);
        ``kind`` names a kind (``"time_segment"``, ``"text_span"``, or with
        ``by="pair"`` also ``"box"``, ``"cuboid"``). Returns :attr:`items`.
        """
        cell = self._find_cell(pair, label, kind)
        self._apply(cell)
        return self.items

    def open(  # type: ignore[override]
        self, item: str | None = None, *, stream: str | None = None, frame: int | None = None
    ) -> tuple[RegionCanvas, RegionCanvas] | None:
        """Show ``item`` in two canvases, one per annotator of the selected pair.

        Opens at the first frame where they disagree (or ``stream``/``frame``),
        each canvas filtered to its annotator's labels, with the shape that
        differs selected. Segments, spans and cuboids need widgets accord does
        not have yet: a ValidationError says which.

        (Without ``item`` this is ipywidgets' ``Widget.open()``, which opens the
        widget's comm.)
        """
        if item is None:
            super().open()
            return None
        cell = self._cell
        if cell is None:
            raise ValidationError(
                "Disagreements.open", "a selected cell first (w.select(pair=..., label=...))", None
            )
        self._session.item(item)  # NotFoundError with the list of items
        where = self._where(cell, item)
        kind = where.get("kind") or cell.kinds[0]
        if kind not in SPATIAL_KINDS:
            raise ValidationError(
                "Disagreements.open",
                "2-D shapes that a RegionCanvas shows per annotator (boxes)",
                f"{item} ({kind})",
                detail=f"side-by-side views per annotator exist for 2-D shapes; open {kind} "
                "annotations one by one with accord.widgets.show_annotation(s, id)",
            )
        if (stream is not None and stream != where.get("stream")) or (
            frame is not None and frame != where.get("frame")
        ):
            # another place than the first disagreement: select nothing there
            where = {"stream": where.get("stream") if stream is None else stream}
        stream = where.get("stream")
        if stream is None:
            raise ValidationError("Disagreements.open(stream)", "a stream of the item", None)
        frame = frame if frame is not None else where.get("frame")
        canvases = tuple(
            RegionCanvas(
                self._session,
                item,
                stream,
                frame=frame,
                tool="select",
                height=self._height,
                annotators=[who],
                selected=_on_frame(self._session, where.get(f"annotation_{side}"), frame),
            )
            for who, side in ((cell.annotator_a, "a"), (cell.annotator_b, "b"))
        )
        self._show_canvases(canvases)  # type: ignore[arg-type]
        self._message.value = ""
        self._quiet = True
        try:
            self._list.value = item if item in set(self._items["item"]) else None
        finally:
            self._quiet = False
        return canvases  # type: ignore[return-value]

    def close(self) -> None:
        """Close the canvases and charts too (they hold session observers and comms)."""
        if getattr(self, "_side_by_side", None) is not None:
            self._close_canvases()
        for name in ("_heatmap", "_confusion_view"):
            child = getattr(self, name, None)
            if child is not None:
                child.close()
        super().close()

    # -- internals -------------------------------------------------------------------------

    def _annotations(self) -> pd.DataFrame:
        return self._session.annotations

    def _compute_cells(self) -> pd.DataFrame:
        s, thr = self._session, self._iou
        rows: list[dict[str, Any]] = []
        if self._by == "class":
            t = agreement_table(s, by="class", iou_threshold=thr)
            t = t[t["kind"].isin(SPATIAL)]
            ann = self._annotations()
            for (a, b), g in t.groupby(["annotator_a", "annotator_b"], sort=True):
                conf = label_confusion(ann, str(a), str(b), kinds=SPATIAL, iou_threshold=thr)
                for label, h in g.groupby("label", sort=True):
                    rows.append(
                        self._cell_row(str(a), str(b), str(label), str(label), SPATIAL, h, conf)
                    )
            kinds: tuple[str, ...] = TIMED
        else:
            kinds = SPATIAL + TIMED
        t = agreement_table(s, by="pair", iou_threshold=thr)
        t = t[t["kind"].isin(kinds)]
        for (a, b, kind), g in t.groupby(["annotator_a", "annotator_b", "kind"], sort=True):
            title = KIND_TITLES[str(kind)]
            if self._by == "class":
                title += " (all classes)"
            rows.append(self._cell_row(str(a), str(b), title, None, (str(kind),), g, None))
        cells = pd.DataFrame(rows, columns=CELL_COLUMNS)
        cells = cells[(cells["n_a"] + cells["n_b"]) > 0]
        return cells.reset_index(drop=True)

    @staticmethod
    def _cell_row(
        a: str,
        b: str,
        column: str,
        label: str | None,
        kinds: tuple[str, ...],
        rows: pd.DataFrame,
        conf: pd.DataFrame | None,
    ) -> dict[str, Any]:
        n_a, n_b, matched = (int(rows[c].sum()) for c in ("n_a", "n_b", "matched"))
        if conf is not None and label is not None:
            # Of the IoU-matched shapes (labels ignored) with this class on either side,
            # the share where both gave this class.
            both = int(conf[(conf["label_a"] == label) & (conf["label_b"] == label)]["count"].sum())
            either = int(
                conf[(conf["label_a"] == label) | (conf["label_b"] == label)]["count"].sum()
            )
            label_agreement = _ratio(both, either)
        else:
            label_agreement = _pooled_label_agreement(rows)
        cell = Cell(a, b, column, label, kinds)
        return {
            "pair": f"{a}{PAIR_SEP}{b}",
            "annotator_a": a,
            "annotator_b": b,
            "column": column,
            "label": label,
            "kinds": kinds,
            "n_a": n_a,
            "n_b": n_b,
            "matched": matched,
            "f1": _ratio(2 * matched, n_a + n_b),
            "label_agreement": label_agreement,
            "key": cell.key,
        }

    def _find_cell(
        self, pair: tuple[str, str] | Sequence[str], label: str | None, kind: str | None
    ) -> Cell:
        if isinstance(pair, str) or len(pair) != 2:
            raise ValidationError("Disagreements.select(pair)", "two annotator names", pair)
        a, b = sorted(str(p) for p in pair)
        _check_pair(a, b, "Disagreements.select")
        cells = self._cells
        mine = cells[(cells["annotator_a"] == a) & (cells["annotator_b"] == b)]
        if mine.empty:
            pairs = sorted(set(zip(cells["annotator_a"], cells["annotator_b"], strict=True)))
            raise ValidationError("Disagreements.select(pair)", f"one of {pairs}", tuple(pair))
        if (label is None) == (kind is None):
            raise ValidationError(
                "Disagreements.select", "either label=<class> or kind=<kind>", (label, kind)
            )
        if label is not None:
            hit = mine[mine["label"] == label]
        else:
            hit = mine[
                mine["label"].map(_label_of).isna()
                & mine["kinds"].map(lambda k: tuple(k) == (kind,))
            ]
        if hit.empty:
            offered = [
                f"kind={k[0]!r}" if _label_of(x) is None else f"label={x!r}"
                for x, k in zip(mine["label"], mine["kinds"], strict=True)
            ]
            raise ValidationError(
                "Disagreements.select", f"one of {offered}", label if label is not None else kind
            )
        r = hit.iloc[0]
        return Cell(a, b, str(r["column"]), _label_of(r["label"]), tuple(r["kinds"]))

    def _apply(self, cell: Cell) -> None:
        """Show ``cell``: highlight it, its pair's confusion matrix, its items."""
        self._cell = cell
        self._heatmap.params.chosen = cell.key
        ann = self._annotations()
        conf_kinds = SPATIAL if cell.label is not None else cell.kinds
        self._confusion = label_confusion(
            ann, cell.annotator_a, cell.annotator_b, kinds=conf_kinds, iou_threshold=self._iou
        )
        what = "boxes and cuboids" if cell.label is not None else KIND_TITLES[cell.kinds[0]]
        if len(self._confusion):
            chart = _confusion_chart(
                self._confusion,
                cell.annotator_a,
                cell.annotator_b,
                f"labels of matched {what}",
            )
        else:
            chart = _empty_chart(f"no IoU-matched {what}")
        self._confusion_view.chart = chart
        self._items = self._compute_items(cell)
        self._fill_list(cell)
        self._message.value = ""
        self._close_canvases()

    def _item_table(self, item: str, by: str) -> pd.DataFrame:
        key = (item, by)
        if key not in self._item_tables:
            self._item_tables[key] = agreement_table(
                self._session,
                by=by,
                items=[item],
                iou_threshold=self._iou,  # type: ignore[arg-type]
            )
        return self._item_tables[key]

    def _compute_items(self, cell: Cell) -> pd.DataFrame:
        a, b = cell.pair
        ann = self._annotations()
        sub = ann[
            (ann["source"] == "human")
            & ann["kind"].isin(list(cell.kinds))
            & ann["annotator"].isin([a, b])
        ]
        if cell.label is not None:
            sub = sub[sub["label"] == cell.label]
        rows = []
        for item in sorted(sub["item"].unique()):
            t = self._item_table(str(item), "class" if cell.label is not None else "pair")
            r = t[(t["annotator_a"] == a) & (t["annotator_b"] == b) & t["kind"].isin(cell.kinds)]
            if cell.label is not None:
                r = r[r["label"] == cell.label]
            if len(r):
                n_a, n_b, matched = (int(r[c].sum()) for c in ("n_a", "n_b", "matched"))
                label_agreement = _pooled_label_agreement(r)
            else:  # one of the two labelled nothing of these kinds on this item
                x = sub[sub["item"] == item]
                n_a, n_b = int((x["annotator"] == a).sum()), int((x["annotator"] == b).sum())
                matched, label_agreement = 0, float("nan")
            f1 = _ratio(2 * matched, n_a + n_b)
            if not (f1 < 1 or label_agreement < 1):
                continue
            where = (
                first_disagreement(
                    ann,
                    str(item),
                    a,
                    b,
                    kinds=cell.kinds,
                    label=cell.label,
                    iou_threshold=self._iou,
                )
                or {}
            )
            rows.append(
                {
                    "item": str(item),
                    "f1": f1,
                    "n_a": n_a,
                    "n_b": n_b,
                    "matched": matched,
                    "label_agreement": label_agreement,
                    "kind": where.get("kind"),
                    "stream": where.get("stream"),
                    "frame": where.get("frame"),
                    "annotation_a": where.get("annotation_a"),
                    "annotation_b": where.get("annotation_b"),
                }
            )
        out = pd.DataFrame(rows, columns=ITEM_COLUMNS)
        if len(out):
            out = out.assign(_la=out["label_agreement"].fillna(1.0), _n=-(out["n_a"] + out["n_b"]))
            out = out.sort_values(["f1", "_la", "_n", "item"], kind="stable")
            out = out.drop(columns=["_la", "_n"])
        out["frame"] = out["frame"].astype("Int64")
        return out.reset_index(drop=True)

    def _fill_list(self, cell: Cell) -> None:
        a, b = cell.pair
        options = []
        for r in self._items.itertuples():
            where = f"{r.stream}" + (f" frame {r.frame}" if not pd.isna(r.frame) else "")
            text = f"{r.item} — F1 {r.f1:.2f} ({a} {r.n_a}, {b} {r.n_b}) · {where}"
            options.append((text, r.item))
        self._quiet = True
        try:
            self._list.options = []
            self._list.value = None
            self._list.options = options
            self._list.value = None
            self._list.layout.display = None if options else "none"
        finally:
            self._quiet = False
        n = len(options)
        self._status.value = f"{a}{PAIR_SEP}{b} — {cell.column}: " + (
            f"{n} item{'s' if n != 1 else ''} where they disagree, worst first"
            if n
            else "they agree on every item"
        )

    def _where(self, cell: Cell, item: str) -> dict[str, Any]:
        hit = self._items[self._items["item"] == item]
        if len(hit):
            r = hit.iloc[0]
            return {
                k: (None if pd.isna(r[k]) else (int(r[k]) if k == "frame" else r[k]))
                for k in ("kind", "stream", "frame", "annotation_a", "annotation_b")
            }
        found = first_disagreement(
            self._annotations(),
            item,
            cell.annotator_a,
            cell.annotator_b,
            kinds=cell.kinds,
            label=cell.label,
            iou_threshold=self._iou,
        )
        return found or {}

    def _on_item_chosen(self, change: dict[str, Any]) -> None:
        if self._quiet or change["new"] is None:
            return
        try:
            self.open(change["new"])
        except AccordError as exc:
            self._close_canvases()
            self._message.value = str(exc)

    def _on_cell_clicked(self, change: Any) -> None:
        """A click on a heatmap cell: the same path as :meth:`select`."""
        selection = change["new"]
        values = getattr(selection, "value", None) or []
        if not values:
            return  # a click outside the cells: keep the selection
        key = values[0].get("key")
        hit = self._cells[self._cells["key"] == key]
        if hit.empty:
            return
        r = hit.iloc[0]
        kinds, label = tuple(r["kinds"]), _label_of(r["label"])
        try:
            if label is not None:
                self.select((r["annotator_a"], r["annotator_b"]), label=label)
            else:
                self.select((r["annotator_a"], r["annotator_b"]), kind=kinds[0])
        except AccordError as exc:
            self._message.value = str(exc)

    def _set_heatmap(self, chart: Any) -> None:
        self._heatmap.chart = chart
        # A new chart brings a new Selections object: listen to it again.
        if "cell" in self._heatmap.selections.trait_names():
            self._heatmap.selections.observe(self._on_cell_clicked, names=["cell"])

    def _show_canvases(self, canvases: tuple[RegionCanvas, RegionCanvas]) -> None:
        self._close_canvases()
        self._canvases = canvases
        panes = []
        for canvas in canvases:
            (who,) = canvas.annotators
            caption = W.Label(value=who)
            caption.add_class("accord-disagreements-annotator")
            panes.append(W.VBox([caption, canvas], layout=W.Layout(width="50%", min_width="0")))
        self._side_by_side.children = panes

    def _close_canvases(self) -> None:
        old, self._canvases = self._canvases, None
        self._side_by_side.children = []
        for canvas in old or ():
            canvas.close()


def _on_frame(session: Session, annotation_id: str | None, frame: int | None) -> str | None:
    """``annotation_id`` when it is a 2-D shape on ``frame`` (else None: nothing to select)."""
    if annotation_id is None:
        return None
    rec = session.store.get("annotation", annotation_id)
    if rec is None or rec["kind"] not in SPATIAL_KINDS:
        return None
    return annotation_id if rec["frame"] == frame else None
