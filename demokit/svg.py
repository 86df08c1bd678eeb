"""Small SVG helpers shared by demo views: one escaper, one root, one text element.

Views build frames as strings on every animation frame, so these stay plain string
functions. A root always carries ``role="img"`` and a ``<title>``: screen readers
announce the title, and the contract test checks both on every frame.
"""

from __future__ import annotations

__all__ = ["FONT", "attrs", "escape", "escape_attr", "number", "svg", "svg_open", "text"]

FONT = "system-ui, sans-serif"
XMLNS = "http://www.w3.org/2000/svg"


def escape(text: object) -> str:
    """``text`` as SVG character data: ``&``, ``<`` and ``>`` escaped."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(value: object) -> str:
    """``value`` for a double-quoted attribute."""
    return escape(value).replace('"', "&quot;")


def number(value: object) -> str:
    """A coordinate as short text: ints as they are, floats to 0.01, no trailing zeros."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    shown = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if shown in ("-0", "") else shown


def attrs(**values: object) -> str:
    """Attributes in the order given, ``font_size`` written ``font-size``; None skipped."""
    return "".join(
        f' {key.replace("_", "-")}="{escape_attr(number(value))}"'
        for key, value in values.items()
        if value is not None
    )


def svg_open(width: float, height: float, title: str, **extra: object) -> str:
    """The opening ``<svg>`` with ``role="img"``, the font, ``extra`` attributes and the
    ``<title>``; close it with ``</svg>``."""
    return (
        f'<svg xmlns="{XMLNS}" viewBox="0 0 {number(width)} {number(height)}" role="img"'
        f"{attrs(font_family=FONT, **extra)}><title>{escape(title)}</title>"
    )


def svg(width: float, height: float, title: str, body: str, **extra: object) -> str:
    """A whole picture: :func:`svg_open`, ``body`` (already SVG) and the closing tag."""
    return f"{svg_open(width, height, title, **extra)}{body}</svg>"


def text(x: object, y: object, content: object, **extra: object) -> str:
    """A ``<text>`` at ``x``, ``y`` holding ``content``, escaped."""
    return f"<text{attrs(x=x, y=y, **extra)}>{escape(content)}</text>"
