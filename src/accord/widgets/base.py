"""``SessionWidget``: the Python half of every accord widget.

A widget is a *view* bound to ``(session, item)``. It never holds the state of
record: commands from the page go to :meth:`Session.handle_message`, queries
are answered from the Session, and every committed change that touches the
item is pushed to the page as an ``event`` message, so all views of one item
agree. See ``docs/design/region-canvas.md`` for the wire protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

from accord.errors import AccordError, CommandError, PermissionDeniedError
from accord.session import Result, Session
from accord.widgets.transport import ChunkAssembler, error_reply, ok_reply

__all__ = ["STATIC", "SessionWidget", "link_types_of"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"

Query = Callable[[Mapping[str, Any], list[bytes]], tuple[Any, list[bytes]]]

#: Reply keys holding label records that ``hide_others`` filters to the annotator's own.
RECORD_LISTS = ("annotations", "segments", "links", "boxes")


def link_types_of(session: Session) -> list[dict[str, Any]]:
    """The taxonomy's link types as plain data for the page's link chooser."""
    return [
        {
            "name": lt.name,
            "sources": list(lt.sources),
            "targets": list(lt.targets),
            "symmetric": lt.symmetric,
            "description": lt.description,
        }
        for lt in session.taxonomy.link_types.values()
    ]


class SessionWidget(anywidget.AnyWidget):
    """Base class: routes page messages, pushes Session events to the page."""

    item = traitlets.Unicode().tag(sync=True)
    annotator = traitlets.Unicode().tag(sync=True)
    bus_key = traitlets.Unicode().tag(sync=True)
    #: Stage 1 of the layered protocol: others' labels are not sent to the page (queries
    #: and pushed events keep the annotator's own) and its "Others" toggle is disabled.
    #: Set it before the widget is displayed (the Workbench does, from ``session.stage``).
    hide_others = traitlets.Bool(False).tag(sync=True)

    #: Session commands the page of this widget may send.
    page_commands: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, session: Session, item: str, **kwargs: Any) -> None:
        session.item(item)  # NotFoundError early, with the list of items
        super().__init__(
            item=item,
            annotator=session.annotator,
            bus_key=f"{session.store.location}|{item}",
            **kwargs,
        )
        self._session = session
        self._chunks = ChunkAssembler()
        self._queries: dict[str, Query] = {"ping": lambda _content, _buffers: ({}, [])}
        self._queries["links.query"] = self._query_item_links  # link mode (runtime/linkmode.ts)
        self.on_msg(self._on_page_message)
        self._unsubscribe = session.observe(self._on_result, item=item)
        session.follow()  # other sessions' edits (other kernels, a team store) reach the page

    @property
    def session(self) -> Session:
        return self._session

    def query(self, name: str, handler: Query) -> None:
        """Register a query the page may ask (``{type: name, uuid, ...}``)."""
        self._queries[name] = handler

    # -- page → kernel ----------------------------------------------------------
    def _on_page_message(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        if not isinstance(content, Mapping):
            return
        kind = content.get("type")
        uuid = content.get("uuid")
        try:
            if kind == "chunk":
                self._chunks.add(content, buffers)
                return
            if "transfer" in content:
                buffers = [self._chunks.take(content["transfer"])]
            reply, out = self._dispatch(str(kind), content, [bytes(b) for b in buffers])
        except AccordError as exc:
            reply, out = error_reply(uuid, exc), []
        except Exception as exc:  # a bug: answer the page rather than let it hang
            log.exception("%s: message %r failed", type(self).__name__, kind)
            reply, out = error_reply(uuid, exc), []
        if uuid is not None:
            self.send(reply, out or None)

    def _dispatch(
        self, kind: str, content: Mapping[str, Any], buffers: list[bytes]
    ) -> tuple[dict[str, Any], list[bytes]]:
        uuid = content.get("uuid")
        if kind in self._queries:
            result, out = self._queries[kind](content, buffers)
            if self.hide_others:
                result = self._own_only(result)
            return ok_reply(uuid, result), out
        if kind in self.page_commands:
            self._check_scope(content)
            return self._session.handle_message(dict(content)), []
        raise CommandError(
            "message.type",
            f"one of {sorted([*self._queries, *self.page_commands])}",
            kind,
        )

    def _check_scope(self, content: Mapping[str, Any]) -> None:
        """A view may only change records of its own item."""
        if "item" in content and content["item"] != self.item:
            raise PermissionDeniedError(
                "command.item", f"this view's item {self.item!r}", content["item"]
            )
        rec_id = content.get("id")
        if isinstance(rec_id, str) and content.get("type", "").startswith("annotation."):
            rec = self._session.store.get("annotation", rec_id)
            if rec is not None and rec["item"] != self.item:
                raise PermissionDeniedError(
                    "command.id", f"an annotation of this view's item {self.item!r}", rec_id
                )
        if content.get("type") == "link.add":  # both ends on this view's item
            for end in ("source", "target"):
                ann = self._session.store.get("annotation", str(content.get(end)))
                if ann is not None and ann["item"] != self.item:
                    raise PermissionDeniedError(
                        f"link.{end}", f"an annotation of this view's item {self.item!r}", ann["id"]
                    )
        if content.get("type") == "link.delete" and isinstance(rec_id, str):
            link = self._session.store.get("link", rec_id)
            if link is not None and link["item"] != self.item:
                raise PermissionDeniedError(
                    "command.id", f"a link of this view's item {self.item!r}", rec_id
                )

    def _query_item_links(
        self, _content: Mapping[str, Any], _buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        """``links.query``: the item's links (with their ends' kinds) and the link types."""
        store = self._session.store
        records = store.records("link", item=self.item)
        ids = {r[end] for r in records for end in ("source", "target")}
        if len(ids) > 2000:  # many links: one scan of the item's annotations
            found = {a["id"]: a for a in store.records("annotation", item=self.item)}
        else:  # the usual case: a primary-key lookup per end
            found = {i: a for i in ids if (a := store.get("annotation", i)) is not None}
        links = [{**rec, **_link_ends(rec, found)} for rec in records]
        return {"links": links, "link_types": link_types_of(self._session)}, []

    # -- stage 1: others' labels stay in the kernel --------------------------------
    def _is_own(self, record: Any) -> bool:
        """Whether the page may see ``record`` under ``hide_others`` (non-labels always)."""
        if not isinstance(record, Mapping):
            return True
        who = record.get("annotator")
        if who is None:  # a projected cuboid names its annotation
            ref = record.get("annotation")
            stored = self._session.store.get("annotation", ref) if isinstance(ref, str) else None
            who = stored["annotator"] if stored is not None else None
        return who is None or who == self.annotator

    def _own_only(self, result: Any) -> Any:
        if not isinstance(result, Mapping):
            return result
        out = dict(result)
        for key in RECORD_LISTS:
            if isinstance(out.get(key), list):
                out[key] = [r for r in out[key] if self._is_own(r)]
        if isinstance(out.get("entities"), list):  # an entity shows with its own members only
            kept = []
            for ent in out["entities"]:
                members = ent.get("members") if isinstance(ent, Mapping) else None
                if not isinstance(members, list):
                    kept.append(ent)
                    continue
                own = [m for m in members if self._is_own(m)]
                if own:
                    kept.append({**ent, "members": own})
            out["entities"] = kept
        return out

    def send(self, content: Any, buffers: Any = None) -> None:
        """Send to the page; under ``hide_others`` a pushed snapshot keeps only own labels."""
        if self.hide_others and isinstance(content, Mapping) and "uuid" not in content:
            content = self._own_only(content)
        super().send(content, buffers)

    # -- kernel → page ----------------------------------------------------------
    def _on_result(self, result: Result) -> None:
        events = [
            {"op": e.op, "id": e.id, "target": e.target, "record": self._pushed(e.target, e.after)}
            for e in result.events
            if e.item == self.item
            and not (self.hide_others and not self._is_own(e.after if e.after else e.before))
        ]
        if events and self.comm is not None:
            seq = result.events[-1].seq if result.events else None
            self.send(
                {"type": "event", "events": events, "seq": seq, "command": result.command.type}
            )

    def _pushed(self, target: str, record: dict[str, Any] | None) -> dict[str, Any] | None:
        """A record as pushed to the page: links carry their ends' kind, label and stream."""
        if target != "link" or record is None:
            return record
        store = self._session.store
        found = {
            i: a
            for i in (record["source"], record["target"])
            if (a := store.get("annotation", i)) is not None
        }
        return {**record, **_link_ends(record, found)}

    def close(self) -> None:
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
            self._unsubscribe = None
        super().close()


def _link_ends(link: Mapping[str, Any], annotations: Mapping[str, Mapping[str, Any]]) -> dict:
    """Kind, label and stream of a link's two ends (None for an end that is gone)."""
    out: dict[str, Any] = {}
    for end in ("source", "target"):
        a = annotations.get(link[end])
        for key in ("kind", "label", "stream"):
            out[f"{end}_{key}"] = None if a is None else a[key]
    return out
