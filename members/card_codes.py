"""The card number as a QR code and a Code128 barcode, as inline SVG the counter's scanner can read.

Both are vector drawings sized by a viewBox only, so CSS sets their size on any screen and no
imaging library is needed.
"""

import segno
from barcode import Code128
from barcode.writer import SVGWriter
from django.utils.safestring import SafeString, mark_safe


class _InlineSVGWriter(SVGWriter):
    """python-barcode's SVG writer in plain units with a viewBox (its own writes millimetres and a
    fixed width), and no XML declaration, so the drawing can sit inside an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.with_doctype = False

    def _init(self, code: list[str]) -> None:
        super()._init(code)
        width, height = self.calculate_size(len(code[0]), 1)
        for name in ("width", "height"):
            self._root.removeAttribute(name)
        self._root.setAttribute("viewBox", f"0 0 {width:g} {height:g}")
        self._root.setAttribute("preserveAspectRatio", "none")  # bars stretch with the box, never crop
        self._root.setAttribute("class", "barcode")
        self._root.setAttribute("aria-hidden", "true")
        # The background as a fill attribute, not the writer's style attribute: the CSP refuses inline
        # styles, and the white behind the bars would turn black.
        for background in self._group.getElementsByTagName("rect"):
            background.removeAttribute("style")
            background.setAttribute("fill", self.background)

    def _create_module(self, xpos: float, ypos: float, width: float, color: str) -> None:
        if color == self.background:
            return
        bar = self._document.createElement("rect")
        for name, value in (("x", xpos), ("y", ypos), ("width", width), ("height", self.module_height)):
            bar.setAttribute(name, f"{value:g}")
        self._group.appendChild(bar)

    def _finish(self) -> str:
        return self._root.toxml()


def qr_svg(data: str) -> SafeString:
    """A QR code of `data` (the card number) with the quiet zone scanners need around it."""
    code = segno.make(data, micro=False, error="m")
    # Only modules and a background: the data itself is not written into the drawing.
    return mark_safe(code.svg_inline(border=4, omitsize=True, light="#fff", svgclass="qr", lineclass="qr-modules"))  # noqa: S308 (segno's own markup, no text)


def barcode_svg(data: str) -> SafeString:
    """A Code128 barcode of `data`, without the text under it (the page prints the number itself)."""
    options = {"module_width": 1, "module_height": 40, "quiet_zone": 10, "write_text": False, "margin_top": 0}
    svg = Code128(data, writer=_InlineSVGWriter()).render(options)
    return mark_safe(svg)  # noqa: S308 (bars and numbers only: the writer escapes any text)
