"""accord: Jupyter-native widgets for multimodal annotation.

Labels on video, audio, transcripts, images and point clouds that agree
across modalities. Start with :class:`Session`.
"""

from accord import crossmodal as _crossmodal  # noqa: F401  registers crossmodal.boxes
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
from accord.qa import sync as _sync  # noqa: F401  registers the builtin:sync estimator
from accord.session import Result, Session

__version__ = "0.1.0"

_LAZY = {"widgets": "accord.widgets", "samples": "accord.samples"}
_LAZY_WIDGETS = (
    "CloudViewer",
    "Disagreements",
    "EntityPanel",
    "Player",
    "RegionCanvas",
    "TextAnnotator",
    "Workbench",
    "show_annotation",
)


def __getattr__(name: str) -> object:
    """Import widgets lazily: the label model never needs anywidget."""
    import importlib

    if name in _LAZY:
        return importlib.import_module(_LAZY[name])
    if name in _LAZY_WIDGETS:
        return getattr(importlib.import_module("accord.widgets"), name)
    raise AttributeError(f"module 'accord' has no attribute {name!r}")


__all__ = [  # noqa: RUF022 - grouped: model, session, lazily imported widgets
    "AccordError",
    "CloudViewer",
    "Disagreements",
    "EntityPanel",
    "Player",
    "RegionCanvas",
    "TextAnnotator",
    "Workbench",
    "show_annotation",
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
