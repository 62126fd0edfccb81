"""Reusable Textual widgets, one per module; screens compose them and set their attributes."""

from tui.widgets.video_canvas import VideoCanvas, strips_from_frame
from tui.widgets.video_frames import Visual, render_frame

__all__ = ["VideoCanvas", "Visual", "render_frame", "strips_from_frame"]
