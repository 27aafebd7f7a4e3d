"""The unified label model: pure Python, no I/O, no widgets."""

from accord.model.annotation import REVIEW_STATUSES, SOURCES, Annotation, Entity, Link
from accord.model.calibration import Calibration
from accord.model.clock import Clock
from accord.model.geometry import (
    GEOMETRY_KINDS,
    Box,
    Cuboid,
    Geometry,
    Keypoints,
    Polygon,
    RotatedBox,
    Tag,
    TextSpan,
    TimeSegment,
    parse_geometry,
)
from accord.model.item import Item, Stream
from accord.model.taxonomy import (
    MODALITIES,
    MODALITY_GEOMETRIES,
    AttributeSpec,
    LabelClass,
    LinkType,
    Rule,
    Taxonomy,
)
from accord.model.timeline import FrameTimeline

__all__ = [
    "GEOMETRY_KINDS",
    "MODALITIES",
    "MODALITY_GEOMETRIES",
    "REVIEW_STATUSES",
    "SOURCES",
    "Annotation",
    "AttributeSpec",
    "Box",
    "Calibration",
    "Clock",
    "Cuboid",
    "Entity",
    "FrameTimeline",
    "Geometry",
    "Item",
    "Keypoints",
    "LabelClass",
    "Link",
    "LinkType",
    "Polygon",
    "RotatedBox",
    "Rule",
    "Stream",
    "Tag",
    "Taxonomy",
    "TextSpan",
    "TimeSegment",
    "parse_geometry",
]
