"""Colours by state, taken from the app's theme so they follow `ctrl+p` theme changes.

Colour only ever reinforces a word: every state is also written out.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App
from textual.color import Color, ColorParseError

_STATE_VARIABLES = {
    "queued": "text-primary",
    "started": "text-warning",
    "busy": "text-warning",
    "scheduled": "text-secondary",
    "deferred": "text-secondary",
    "finished": "text-success",
    "failed": "text-error",
    "stopped": "text-error",
    "dead": "text-error",
    "canceled": "foreground-muted",
    "idle": "foreground-muted",
    "paused": "text-warning",
}


@dataclass(frozen=True)
class Palette:
    colours: dict[str, str]
    muted: str

    def state(self, name: str, bold: bool = False) -> str:
        """A Rich style for a job, worker or queue state."""
        colour = self.colours.get(name, "")
        return f"bold {colour}".strip() if bold else colour


_cache: dict[str, Palette] = {}


def palette(app: App[object]) -> Palette:
    """The palette of `app`'s current theme."""
    theme = app.theme
    if theme not in _cache:
        variables = app.get_css_variables()
        background = variables.get("background", "#000000")
        colours = {state: _colour(variables.get(name, ""), background) for state, name in _STATE_VARIABLES.items()}
        _cache[theme] = Palette(colours, _colour(variables.get("foreground-muted", ""), background))
    return _cache[theme]


def _colour(value: str, background: str) -> str:
    """A theme value as an opaque #RRGGBB Rich colour (translucent ones blended onto the background)."""
    try:
        colour = Color.parse(value)
        if colour.a < 1:
            colour = Color.parse(background) + colour
    except ColorParseError:
        return ""
    return colour.hex6
