"""Annotations, entities and links: the records of the label model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accord.model.geometry import Geometry, parse_geometry

__all__ = ["REVIEW_STATUSES", "SOURCES", "Annotation", "Entity", "Link"]

#: Review tiers an annotation moves through.
REVIEW_STATUSES: tuple[str, ...] = (
    "draft",
    "submitted",
    "self_checked",
    "peer_reviewed",
    "approved",
    "rejected",
)

#: Where an annotation came from.
SOURCES: tuple[str, ...] = ("human", "prediction", "import", "consensus")


@dataclass(frozen=True)
class Annotation:
    """One label on one stream.

    ``frame`` indexes a video frame or point-cloud sweep (its stream time
    follows from the stream's timeline); ``time_segment`` geometries carry
    their own times in stream seconds. ``track`` groups annotations of one
    object over time; ``entity`` groups annotations of one real-world thing
    across modalities.
    """

    id: str
    item: str
    stream: str
    label: str
    geometry: Geometry
    annotator: str
    attributes: dict[str, Any] = field(default_factory=dict)
    frame: int | None = None
    track: str | None = None
    entity: str | None = None
    status: str = "draft"
    source: str = "human"
    score: float | None = None
    stage: int = 1
    taxonomy_version: int = 1
    sources: tuple[str, ...] = ()
    revision: int = 1
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def kind(self) -> str:
        return self.geometry.kind

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item": self.item,
            "stream": self.stream,
            "label": self.label,
            "kind": self.kind,
            "geometry": self.geometry.to_dict(),
            "annotator": self.annotator,
            "attributes": dict(self.attributes),
            "frame": self.frame,
            "track": self.track,
            "entity": self.entity,
            "status": self.status,
            "source": self.source,
            "score": self.score,
            "stage": self.stage,
            "taxonomy_version": self.taxonomy_version,
            "sources": list(self.sources),
            "revision": self.revision,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Annotation:
        return cls(
            id=d["id"],
            item=d["item"],
            stream=d["stream"],
            label=d["label"],
            geometry=parse_geometry(d["kind"], d["geometry"]),
            annotator=d["annotator"],
            attributes=dict(d.get("attributes") or {}),
            frame=d.get("frame"),
            track=d.get("track"),
            entity=d.get("entity"),
            status=d.get("status", "draft"),
            source=d.get("source", "human"),
            score=d.get("score"),
            stage=int(d.get("stage", 1)),
            taxonomy_version=int(d.get("taxonomy_version", 1)),
            sources=tuple(d.get("sources") or ()),
            revision=int(d.get("revision", 1)),
            created_at=float(d.get("created_at", 0.0)),
            updated_at=float(d.get("updated_at", 0.0)),
        )


@dataclass(frozen=True)
class Entity:
    """One real-world thing or event, seen across modalities."""

    id: str
    label: str | None = None
    name: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    annotator: str = ""
    revision: int = 1
    created_at: float = 0.0
    updated_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "name": self.name,
            "attributes": dict(self.attributes),
            "annotator": self.annotator,
            "revision": self.revision,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entity:
        return cls(
            id=d["id"],
            label=d.get("label"),
            name=d.get("name", ""),
            attributes=dict(d.get("attributes") or {}),
            annotator=d.get("annotator", ""),
            revision=int(d.get("revision", 1)),
            created_at=float(d.get("created_at", 0.0)),
            updated_at=float(d.get("updated_at", 0.0)),
        )


@dataclass(frozen=True)
class Link:
    """A typed, directed link ``source → target`` between two annotations."""

    id: str
    item: str
    source: str
    target: str
    type: str
    annotator: str
    attributes: dict[str, Any] = field(default_factory=dict)
    stage: int = 1
    revision: int = 1
    created_at: float = 0.0
    updated_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item": self.item,
            "source": self.source,
            "target": self.target,
            "type": self.type,
            "annotator": self.annotator,
            "attributes": dict(self.attributes),
            "stage": self.stage,
            "revision": self.revision,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Link:
        return cls(
            id=d["id"],
            item=d["item"],
            source=d["source"],
            target=d["target"],
            type=d["type"],
            annotator=d["annotator"],
            attributes=dict(d.get("attributes") or {}),
            stage=int(d.get("stage", 1)),
            revision=int(d.get("revision", 1)),
            created_at=float(d.get("created_at", 0.0)),
            updated_at=float(d.get("updated_at", 0.0)),
        )
