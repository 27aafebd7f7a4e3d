"""Widgets: views bound to a Session (anywidget components)."""

from accord.widgets.base import SessionWidget
from accord.widgets.region_canvas import RegionCanvas

__all__ = ["RegionCanvas", "SessionWidget"]
