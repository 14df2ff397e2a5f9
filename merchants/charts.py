"""Chart geometry for the owner's dashboard, drawn as inline SVG by templates/components/_chart.html.

Pure Python: no database, no JavaScript. Every number shown as text goes through the caller's
`value_label`, so the charts read in the shop's locale (the chart code never formats a value itself).
Coordinates are in viewBox units; the template renders them with localisation off, because a
Ukrainian or Hungarian decimal comma would break the SVG attributes.
Values below zero are drawn at zero: these charts show counts and amounts, not changes.
"""

import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

type Number = float | int | Decimal
type ValueLabel = Callable[[float], str]

# viewBox sizes, small enough that 12-unit text stays readable when a phone scales the chart down.
WIDTH = 360
HEIGHT = 200
FONT = 12
CHAR_WIDTH = 7  # a rough average glyph width at FONT, to leave room for the y-axis labels
MAX_X_LABELS = 7
SERIES_CLASSES = 6  # app.css styles series-1 .. series-6
HEAT_STEPS = 5  # heat-0 (zero) .. heat-5 (the maximum)


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Gridline:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"  # SVG text-anchor: start, middle, end


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    css_class: str
    points: list[Point | None]  # one per x label; None where the value is missing
    segments: list[str]  # polyline `points` attributes, one per unbroken run
    dots: list[Point]  # runs of one point, which a polyline would not show
    last_point: Point | None
    last_label: str  # the x label of the last point
    last_value: str  # value_label of the last point


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    css_class: str
    label: str  # "Mon: This period: 12", the bar's tooltip


@dataclass(frozen=True, slots=True)
class Cell:
    x: float
    y: float
    w: float
    h: float
    css_class: str  # heat-0 .. heat-5
    text: str  # value_label of the value, "" for a missing one

    @property
    def cx(self) -> float:
        return _r(self.x + self.w / 2)

    @property
    def cy(self) -> float:
        return _r(self.y + self.h / 2)


@dataclass(frozen=True, slots=True)
class LegendItem:
    name: str
    css_class: str
    last_label: str = ""
    last_value: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass(slots=True)
class Chart:
    kind: str  # line, bar, hbar or heat: which partial of _chart.html draws it
    title: str
    width: int
    height: int
    empty: bool  # nothing above zero: the template shows "No data for this period yet"
    table: Table
    id: str = field(default_factory=lambda: f"chart-{uuid.uuid4().hex[:8]}")
    y_max: float = 0
    plot: tuple[float, float, float, float] = (0, 0, 0, 0)  # left, top, right, bottom
    gridlines: list[Gridline] = field(default_factory=list)
    x_labels: list[Text] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)  # bar names and values (hbar), row and column heads (heat)
    lines: list[Line] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def left(self) -> float:
        return self.plot[0]

    @property
    def right(self) -> float:
        return self.plot[2]


def _r(value: float) -> float:
    """Coordinates to a tenth of a unit: short SVG, no float noise like 30.000000000000004."""
    return round(value, 1)


def _num(value: Number | None) -> float | None:
    return None if value is None else max(float(value), 0.0)


def _tidy(value: float) -> float | int:
    """A tick such as 20.0 goes to value_label as 20, so a count formatter shows no decimals."""
    value = round(value, 10)
    return int(value) if value == int(value) else value


def nice_axis(data_max: float, *, integer: bool = False) -> tuple[float, float]:
    """(axis max, tick step) for an axis from 0: 3 or 4 steps of 1, 2, 2.5 or 5 times a power of ten.

    The step is the smallest such number of at least a quarter of the maximum, so the top
    gridline is at or just above the data (87 -> 100 in steps of 25)."""
    if data_max <= 0:
        return 1, 1
    raw = data_max / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    if integer:
        step = max(1, math.ceil(step))  # counts: no "1.5 members" gridline
    return _tidy(math.ceil(data_max / step - 1e-9) * step), step


def _check_series(labels: Sequence[str], series: Sequence[tuple[str, Sequence[Number | None]]]) -> None:
    for name, values in series:
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")


def _series_class(index: int) -> str:
    return f"series-{index % SERIES_CLASSES + 1}"


def _all_integer(values: list[Number | None]) -> bool:
    return all(v is None or isinstance(v, int) or float(v).is_integer() for v in values)


def _series_table(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number | None]]],
    value_label: ValueLabel,
    label_heading: str,
) -> Table:
    return Table(
        header=[label_heading, *(name for name, _ in series)],
        rows=[
            [label, *("" if values[i] is None else value_label(values[i]) for _, values in series)]
            for i, label in enumerate(labels)
        ],
    )


def _thin(count: int) -> int:
    """Show every n-th x label so at most MAX_X_LABELS fit under the plot."""
    return max(1, math.ceil(count / MAX_X_LABELS))


def _y_axis(chart: Chart, data_max: float, integer: bool, value_label: ValueLabel) -> None:
    """Set the y scale, the gridlines and the plot box (the left margin fits the widest y label)."""
    y_max, step = nice_axis(data_max, integer=integer)
    ticks = [_tidy(i * step) for i in range(round(y_max / step) + 1)]
    tick_labels = [value_label(t) for t in ticks]
    left = max(28, 8 + CHAR_WIDTH * max(len(t) for t in tick_labels))
    top, right, bottom = 10, chart.width - 20, chart.height - 24
    chart.y_max, chart.plot = y_max, (left, top, right, bottom)
    chart.gridlines = [
        Gridline(y=_r(bottom - t / y_max * (bottom - top)), label=label)
        for t, label in zip(ticks, tick_labels, strict=True)
    ]


def _y(chart: Chart, value: float) -> float:
    _, top, _, bottom = chart.plot
    return _r(bottom - min(value, chart.y_max) / chart.y_max * (bottom - top))


def line_chart(
    *,
    labels: list[str],
    series: list[tuple[str, list[Number | None]]],
    value_label: ValueLabel,
    title: str,
    label_heading: str = "",
) -> Chart:
    """One line per series (the second, e.g. the previous period, is drawn dashed); None breaks a line."""
    _check_series(labels, series)
    values = [_num(v) for _, vs in series for v in vs]
    data_max = max((v for v in values if v is not None), default=0)
    chart = Chart(
        kind="line",
        title=title,
        width=WIDTH,
        height=HEIGHT,
        empty=data_max <= 0,
        table=_series_table(labels, series, value_label, label_heading),
    )
    if chart.empty:
        return chart
    _y_axis(chart, data_max, _all_integer([v for _, vs in series for v in vs]), value_label)
    left, _, right, bottom = chart.plot
    gap = (right - left) / (len(labels) - 1) if len(labels) > 1 else 0
    xs = [_r(left + i * gap) if gap else _r((left + right) / 2) for i in range(len(labels))]
    thin = _thin(len(labels))
    chart.x_labels = [Text(x=xs[i], y=bottom + 16, text=label) for i, label in enumerate(labels) if i % thin == 0]

    for index, (name, raw) in enumerate(series):
        points = [None if v is None else Point(xs[i], _y(chart, v)) for i, v in enumerate(map(_num, raw))]
        runs: list[list[Point]] = [[]]
        for point in points:
            if point is None:
                runs.append([])
            else:
                runs[-1].append(point)
        last = max((i for i, p in enumerate(points) if p is not None), default=None)
        line = Line(
            name=name,
            css_class=_series_class(index),
            points=points,
            segments=[" ".join(f"{p.x:g},{p.y:g}" for p in run) for run in runs if len(run) > 1],
            dots=[run[0] for run in runs if len(run) == 1],
            last_point=None if last is None else points[last],
            last_label="" if last is None else labels[last],
            last_value="" if last is None else value_label(raw[last]),
        )
        chart.lines.append(line)
        chart.legend.append(LegendItem(name, line.css_class, line.last_label, line.last_value))
    return chart


def bar_chart(
    *,
    labels: list[str],
    series: list[tuple[str, list[Number | None]]],
    value_label: ValueLabel,
    title: str,
    stacked: bool = False,
    label_heading: str = "",
) -> Chart:
    """Vertical bars, one group per label: side by side, or stacked (e.g. new members by channel)."""
    _check_series(labels, series)
    columns = [[_num(vs[i]) or 0.0 for _, vs in series] for i in range(len(labels))]
    data_max = max((sum(col) if stacked else max(col, default=0) for col in columns), default=0)
    chart = Chart(
        kind="bar",
        title=title,
        width=WIDTH,
        height=HEIGHT,
        empty=data_max <= 0,
        table=_series_table(labels, series, value_label, label_heading),
    )
    if chart.empty:
        return chart
    _y_axis(chart, data_max, _all_integer([v for _, vs in series for v in vs]), value_label)
    left, _, right, bottom = chart.plot
    band = (right - left) / len(labels)
    inner = band * 0.8  # a fifth of each band is the gap between groups
    width = inner if stacked else inner / len(series)
    thin = _thin(len(labels))
    for i, (label, column) in enumerate(zip(labels, columns, strict=True)):
        start = left + i * band + (band - inner) / 2
        if i % thin == 0:
            chart.x_labels.append(Text(x=_r(left + (i + 0.5) * band), y=bottom + 16, text=label))
        base = 0.0
        for index, ((name, raw), value) in enumerate(zip(series, column, strict=True)):
            if value > 0:
                top_value = base + value if stacked else value
                y = _y(chart, top_value)
                y0 = _y(chart, base) if stacked else bottom
                chart.bars.append(
                    Bar(
                        x=_r(start if stacked else start + index * width),
                        y=y,
                        w=_r(width),
                        h=_r(y0 - y),
                        css_class=_series_class(index),
                        label=f"{label}: {name}: {value_label(raw[i])}",
                    )
                )
            if stacked:
                base += value
    chart.legend = [LegendItem(name, _series_class(i)) for i, (name, _) in enumerate(series)]
    return chart


def hbar_chart(
    *,
    items: list[tuple[str, Number]],
    value_label: ValueLabel,
    title: str,
    label_heading: str = "",
    value_heading: str = "",
) -> Chart:
    """Horizontal bars, largest first as given: each bar's name above it and its value at its end."""
    row, bar_height, top = 40, 14, 4
    data_max = max((_num(v) or 0.0 for _, v in items), default=0)
    chart = Chart(
        kind="hbar",
        title=title,
        width=WIDTH,
        height=top + row * len(items),
        empty=data_max <= 0,
        table=Table(header=[label_heading, value_heading or title], rows=[[k, value_label(v)] for k, v in items]),
    )
    if chart.empty:
        return chart
    texts = [value_label(v) for _, v in items]
    left, right = 0, WIDTH - 8 - CHAR_WIDTH * max(len(t) for t in texts)  # room for the longest value
    chart.plot = (left, top, right, chart.height)
    for i, ((label, value), text) in enumerate(zip(items, texts, strict=True)):
        y = top + i * row
        w = _r((_num(value) or 0.0) / data_max * (right - left))
        chart.texts.append(Text(x=left, y=y + FONT, text=label, anchor="start"))
        chart.bars.append(Bar(x=left, y=y + 18, w=w, h=bar_height, css_class="series-1", label=f"{label}: {text}"))
        chart.texts.append(Text(x=_r(left + w + 6), y=y + 18 + FONT - 1, text=text, anchor="start"))
    return chart


def heat_step(value: Number | None, data_max: float) -> int:
    """0 for zero (or nothing), 5 for the maximum; any value above zero gets at least step 1."""
    value = _num(value)
    if not value or data_max <= 0:
        return 0
    return min(HEAT_STEPS, math.ceil(value / data_max * HEAT_STEPS - 1e-9))


def heat_map(
    *,
    row_labels: list[str],
    column_labels: list[str],
    values: list[list[Number | None]],
    value_label: ValueLabel,
    title: str,
    label_heading: str = "",
) -> Chart:
    """A cohort table: one row per cohort, each cell shaded heat-0 .. heat-5 from zero to the maximum."""
    if len(values) != len(row_labels) or any(len(r) != len(column_labels) for r in values):
        raise ValueError("values must have one row per row label and one cell per column label")
    data_max = max((_num(v) or 0.0 for r in values for v in r), default=0)
    texts = [["" if v is None else value_label(v) for v in r] for r in values]
    cell_w, cell_h = 48, 28
    left = 8 + CHAR_WIDTH * max((len(label) for label in row_labels), default=0)
    top = 20
    chart = Chart(
        kind="heat",
        title=title,
        width=left + cell_w * len(column_labels),
        height=top + cell_h * len(row_labels),
        empty=data_max <= 0,
        table=Table(
            header=[label_heading, *column_labels],
            rows=[[label, *r] for label, r in zip(row_labels, texts, strict=True)],
        ),
    )
    if chart.empty:
        return chart
    chart.plot = (left, top, chart.width, chart.height)
    for j, label in enumerate(column_labels):
        chart.texts.append(Text(x=left + j * cell_w + cell_w / 2, y=top - 6, text=label))
    for i, (label, row, row_texts) in enumerate(zip(row_labels, values, texts, strict=True)):
        y = top + i * cell_h
        chart.texts.append(Text(x=left - 8, y=y + cell_h / 2 + FONT / 3, text=label, anchor="end"))
        for j, (value, text) in enumerate(zip(row, row_texts, strict=True)):
            css = "heat-none" if value is None else f"heat-{heat_step(value, data_max)}"
            chart.cells.append(Cell(x=left + j * cell_w, y=y, w=cell_w, h=cell_h, css_class=css, text=text))
    return chart
