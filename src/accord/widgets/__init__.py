"""Widgets: views bound to a Session (anywidget components)."""

from accord.widgets.base import SessionWidget
from accord.widgets.disagreements import Disagreements
from accord.widgets.region_canvas import RegionCanvas, show_annotation

__all__ = ["Disagreements", "RegionCanvas", "SessionWidget", "show_annotation"]
