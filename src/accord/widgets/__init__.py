"""Widgets: views bound to a Session (anywidget components)."""

from accord.widgets.base import SessionWidget
from accord.widgets.cloud_viewer import CloudViewer
from accord.widgets.disagreements import Disagreements
from accord.widgets.entity_panel import EntityPanel
from accord.widgets.player import Player
from accord.widgets.region_canvas import RegionCanvas
from accord.widgets.show import show_annotation, show_finding
from accord.widgets.text_annotator import TextAnnotator
from accord.widgets.workbench import Workbench

__all__ = [
    "CloudViewer",
    "Disagreements",
    "EntityPanel",
    "Player",
    "RegionCanvas",
    "SessionWidget",
    "TextAnnotator",
    "Workbench",
    "show_annotation",
    "show_finding",
]
