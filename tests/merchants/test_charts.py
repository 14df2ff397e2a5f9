"""The dashboard's SVG charts: geometry in merchants.charts, markup in components/_chart.html."""

import re

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from merchants.charts import bar_chart, hbar_chart, heat_map, line_chart

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def marked(value: float) -> str:
    """A formatter whose output is easy to find: every number the chart shows must look like this."""
    return f"<{value:g}>"


def line(values, *, previous=None, labels=None):
    series = [("This week", values)] + ([("Last week", previous)] if previous else [])
    return line_chart(labels=labels or DAYS[: len(values)], series=series, value_label=marked, title="Visits")


def render(chart) -> str:
    return render_to_string("components/_chart.html", {"chart": chart})


def text_nodes(html: str) -> list[str]:
    return [t.strip() for t in re.findall(r">([^<]*)<", html) if t.strip()]


def every_kind():
    return [
        line([3, 87, None, 12], previous=[5, 6, 7, 8]),
        bar_chart(
            labels=DAYS[:3], series=[("Shop", [1, 2, 3]), ("Online", [4, None, 6])], value_label=marked, title="New"
        ),
        bar_chart(
            labels=DAYS[:2],
            series=[("Shop", [1, 2]), ("Online", [3, 4])],
            value_label=marked,
            title="New",
            stacked=True,
        ),
        hbar_chart(items=[("Coffee", 42), ("Cake", 7.5)], value_label=marked, title="Top rewards"),
        heat_map(
            row_labels=["Jan", "Feb"],
            column_labels=["First", "Second"],
            values=[[100, 40.5], [80, None]],
            value_label=marked,
            title="Cohorts",
        ),
    ]


def test_y_axis_max_is_rounded_up_above_the_data_max():
    chart = line([3, 87, 12])
    assert (chart.y_max, chart.gridlines[-1].label) == (100, "<100>")


def test_y_axis_has_three_to_five_gridlines():
    for data_max in (1.3, 7, 87, 999, 12_345):
        assert 3 <= len(line([data_max]).gridlines) <= 5, data_max


def test_first_point_is_at_the_left_edge_of_the_plot():
    chart = line([3, 87, 12])
    assert chart.lines[0].points[0].x == chart.left


def test_highest_value_is_at_the_top_of_the_plot():
    chart = line([3, 100, 12])
    assert chart.lines[0].points[1].y == chart.plot[1]


def test_none_breaks_a_line_into_separate_segments():
    chart = line([1, 2, None, 4, 5, 6])
    assert [len(segment.split()) for segment in chart.lines[0].segments] == [2, 3]


def test_a_point_alone_between_gaps_is_drawn_as_a_dot():
    chart = line([None, 4, None, 6, 7])
    assert chart.lines[0].dots == [chart.lines[0].points[1]]


def test_last_value_is_the_last_point_with_a_value():
    chart = line([1, 2, 9, None])
    assert (chart.lines[0].last_label, chart.lines[0].last_value) == ("Wed", "<9>")


def test_x_labels_are_thinned_to_at_most_seven():
    labels = [f"Day {chr(65 + i)}" for i in range(20)]
    assert len(line(list(range(20)), labels=labels).x_labels) <= 7


def test_grouped_bars_stand_side_by_side():
    chart = bar_chart(labels=["Mon"], series=[("A", [2]), ("B", [4])], value_label=marked, title="New")
    first, second = chart.bars
    assert second.x == pytest.approx(first.x + first.w, abs=0.1)


def test_stacked_bars_stand_on_each_other():
    chart = bar_chart(labels=["Mon"], series=[("A", [2]), ("B", [4])], value_label=marked, title="New", stacked=True)
    first, second = chart.bars
    assert second.y + second.h == pytest.approx(first.y, abs=0.1)


def test_longest_horizontal_bar_fills_the_plot_width():
    chart = hbar_chart(items=[("Coffee", 40), ("Cake", 10)], value_label=marked, title="Top rewards")
    assert chart.bars[0].w == chart.right - chart.left


def test_heat_map_zero_is_step_0_and_the_maximum_step_5():
    chart = heat_map(
        row_labels=["Jan"], column_labels=["A", "B", "C"], values=[[0, 50, 100]], value_label=marked, title="Cohorts"
    )
    assert [cell.css_class for cell in chart.cells] == ["heat-0", "heat-3", "heat-5"]


def test_heat_map_missing_cell_is_empty():
    chart = heat_map(
        row_labels=["Jan"], column_labels=["A", "B"], values=[[10, None]], value_label=marked, title="Cohorts"
    )
    assert (chart.cells[1].css_class, chart.cells[1].text) == ("heat-none", "")


@pytest.mark.parametrize(
    "chart",
    [
        line_chart(labels=[], series=[], value_label=marked, title="Visits"),
        line([0, 0, 0], previous=[0, None, 0]),
        bar_chart(labels=DAYS[:2], series=[("A", [0, None])], value_label=marked, title="New", stacked=True),
        hbar_chart(items=[], value_label=marked, title="Top rewards"),
        heat_map(row_labels=["Jan"], column_labels=["A"], values=[[0]], value_label=marked, title="Cohorts"),
    ],
    ids=["empty-line", "zero-line", "zero-bar", "empty-hbar", "zero-heat"],
)
def test_empty_or_all_zero_data_renders_the_empty_message(chart):
    html = render(chart)
    assert "No data for this period yet" in html
    assert "<svg" not in html


@pytest.mark.parametrize("chart", every_kind(), ids=["line", "bar", "stacked", "hbar", "heat"])
def test_every_number_shown_comes_from_value_label(chart):
    shown = " ".join(text_nodes(render(chart)))
    assert re.findall(r"\d", re.sub(r"&lt;[\d.]+&gt;", "", shown)) == []


@pytest.mark.parametrize("chart", every_kind(), ids=["line", "bar", "stacked", "hbar", "heat"])
def test_svg_is_an_image_labelled_by_its_title(chart):
    html = render(chart)
    assert f'role="img" aria-labelledby="{chart.id}-title"' in html
    assert f'<title id="{chart.id}-title">{chart.title}</title>' in html


def test_numbers_are_also_in_a_table():
    html = render(line([3, 87]))
    table = html[html.index("<table>") : html.index("</table>")]
    assert '<th scope="row">Tue</th><td class="num">&lt;87&gt;</td>' in table


def test_coordinates_are_not_localised():
    with translation.override("uk"):  # Ukrainian writes 1,5: fatal inside an SVG attribute
        html = render(line([1.5, 87.25, 3]))
    attributes = re.findall(r' (?:x|y|cx|cy|x1|y1|width|height)="([^"]*)"', html)
    assert attributes
    assert all("," not in value for value in attributes)


def test_series_with_a_value_per_label_missing_is_refused():
    with pytest.raises(ValueError, match="has 2 values for 3 labels"):
        line([1, 2], labels=["a", "b", "c"])
