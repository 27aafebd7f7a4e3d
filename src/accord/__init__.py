"""accord: Jupyter-native widgets for multimodal annotation.

Labels on video, audio, transcripts, images and point clouds that agree
across modalities. Start with :class:`Session`.
"""

from accord import errors
from accord.errors import AccordError
from accord.model import (
    Annotation,
    AttributeSpec,
    Box,
    Calibration,
    Clock,
    Cuboid,
    Entity,
    FrameTimeline,
    Item,
    Keypoints,
    LabelClass,
    Link,
    LinkType,
    Polygon,
    RotatedBox,
    Rule,
    Stream,
    Tag,
    Taxonomy,
    TextSpan,
    TimeSegment,
)
from accord.session import Result, Session

__version__ = "0.1.0"

__all__ = [
    "AccordError",
    "Annotation",
    "AttributeSpec",
    "Box",
    "Calibration",
    "Clock",
    "Cuboid",
    "Entity",
    "FrameTimeline",
    "Item",
    "Keypoints",
    "LabelClass",
    "Link",
    "LinkType",
    "Polygon",
    "Result",
    "RotatedBox",
    "Rule",
    "Session",
    "Stream",
    "Tag",
    "Taxonomy",
    "TextSpan",
    "TimeSegment",
    "__version__",
    "errors",
]
