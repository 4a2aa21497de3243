"""Figure builders shared by the pages and the presentation: answers readable without hovering.

Each takes a metrics DataFrame as shown (counts hidden by protection carry the codes of
metrics.suppress, `HIDDEN_PRIMARY`/`HIDDEN_SECONDARY`) and returns a Plotly figure:
- bars carry their values, and stacked bars their totals, so a projector needs no hover;
- a hidden count is drawn as an explicit, hatched, labelled segment where the bar's total is
  shown (its size is the total less the visible parts, so stacking stays true), and the total
  label says `..` where the total itself is hidden — never a silent gap that reads as zero;
- every name from a file is escaped (render.text.chart_text) before Plotly sees it;
- colours are fixed per category (render.theme), one meaning each.
Styling (fonts, sizes, margins) is applied by `render.theme.apply_theme` when shown.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from core.vocabulary import AGENCY_ORDER, SEX_LABELS, SEXES
from metrics.suppress import DEFAULT_THRESHOLD, HIDDEN_PRIMARY, HIDDEN_SECONDARY, SECONDARY, is_hidden, kind_of, mark

from .format import fmt_int, fmt_kr, fmt_pct
from .protected import bar_ends, cell_ends
from .text import chart_text
from .theme import (AGENCY_COLORS, FLAG_LINE, HIDDEN_COLOR, MISSING_COLOR, SEX_COLORS, TARGET_LINE, TOTAL_COLOR,
                    category_color, exit_reason_color, label_color)

HIDDEN_NAME = "Dolt (skydd för små tal)"
# A kronor axis: a few horizontal ticks ("1 200 000"), the unit in the axis title; Plotly turned the ticks 45° when
# "1 200 000 kr" did not fit side by side on a half-width chart.
MONEY_AXIS = dict(tickformat=",.0f", tickangle=0, nticks=5, title=dict(text="Kronor"))


def percent_axis(step: float = 0.2) -> dict:
    """A share axis labelled as the tables write shares, "20 %" with its space (Plotly's ".0%" writes "20%")."""
    ticks = [round(i * step, 10) for i in range(int(round(1 / step)) + 1)]
    return dict(tickvals=ticks, ticktext=[fmt_pct(t, 0) for t in ticks])


def _hatch(line: str = HIDDEN_COLOR, stripes: str = "#767676") -> dict:
    """The marker of a hidden count's bar: white, outlined and striped (in its series' colour where it stands in a
    series' slot)."""
    return dict(color="#FFFFFF", line=dict(color=line, width=1), pattern=dict(shape="/", fgcolor=stripes, solidity=0.35))


def _hatch_in_legend(fig: go.Figure, horizontal: bool) -> None:
    """The hatch named once in the legend, where the hatched bars stand in each series' slot without an entry."""
    fig.add_bar(x=[None], y=[None], name=HIDDEN_NAME, hoverinfo="skip", marker=_hatch(),
                **(dict(orientation="h") if horizontal else {}))


OTHERS = "Övriga"
TOP_N = 15  # per-category charts show the largest 15 and the rest as "Övriga" (a table holds them all)


def _num(v) -> float | None:
    """A drawable number: None for missing or hidden."""
    if v is None or is_hidden(v):
        return None
    try:
        return None if pd.isna(v) else float(v)
    except (TypeError, ValueError):
        return None


def _label(v, threshold: int) -> str:
    return mark(kind_of(v), threshold) if is_hidden(v) else fmt_int(v)


def _cats(values) -> list[str]:
    return [chart_text(v) for v in values]


def stacked(df: pd.DataFrame, category: str, series: Sequence[tuple[str, str, str]], title: str, *,
            total: str | None = "total", horizontal: bool = True, threshold: int = DEFAULT_THRESHOLD,
            axis_title: str | None = None, labels: bool = True, label_after: Sequence | None = None,
            whole=None) -> go.Figure:
    """Counts per category stacked by `series` [(column, name, colour)], values in the bars, totals at the end.

    No bar is drawn shorter than the truth (render.protected.bar_ends): a hidden total's bar reaches the largest
    it can be — `threshold − 1` for `<5`, and for `..` what `whole` (the categories' sum as shown) leaves after the
    others — its hidden part hatched and the end label saying so. `label_after`: per category a position the
    total's label must start beyond (a target stroke drawn across the bar there), so the stroke never covers it."""
    cats = _cats(df[category])
    fig = go.Figure()
    visible_sum = [0.0] * len(df)
    for col, name, color in series:
        if col not in df or not df[col].map(_num).any():
            continue  # its hidden counts are in the hatched part: no legend entry without a bar of its own
        vals = [_num(v) for v in df[col]]
        visible_sum = [a + (b or 0) for a, b in zip(visible_sum, vals)]
        # a series that is the total itself (exits per reason in one colour) has its value at the bar's end only: the
        # slide printed each number twice, inside the bar and after it (a board member's walk-through)
        text = [""] * len(vals) if col == total else [fmt_int(v) if v else "" for v in vals]
        kw = dict(y=cats, x=vals, orientation="h") if horizontal else dict(x=cats, y=vals)
        fig.add_bar(name=chart_text(name), marker_color=color, text=text if labels else None,
                    textposition="inside", insidetextanchor="middle", textfont=dict(color=label_color(color)),
                    textangle=0,  # level, or hidden where it does not fit: a "7" turned on its side reads as an "L"
                    hovertemplate="%{" + ("y" if horizontal else "x") + "}: %{" + ("x" if horizontal else "y")
                    + ":,d}<extra>" + chart_text(name) + "</extra>", **kw)
    if total and total in df:
        hidden_rest, hidden_text, end_text, end_at = [], [], [], []
        parts = [df[c].tolist() for c, _, _ in series if c in df]
        ends = bar_ends(df[total].tolist(), visible_sum, whole, threshold,
                        [[v for v in values if is_hidden(v)] for values in zip(*parts)] if parts else None)
        for t, shown, end, *values in zip(df[total].tolist(), visible_sum, ends, *parts):
            marks = [mark(kind_of(v), threshold) for v in values if is_hidden(v)]
            if is_hidden(t):
                # the bar reaches the largest the total can be, its hidden part hatched; the end label says it once
                end = max([e for e in ends if e is not None] + [shown, float(threshold)]) if end is None else end
                hidden_rest.append(end - shown if end > shown else None)
                hidden_text.append("")
                bounded = kind_of(t) == SECONDARY and ends[len(end_text)] is not None
                end_text.append(mark(kind_of(t), threshold) + (f" (högst {fmt_int(end)})" if bounded else ""))
                end_at.append(end)
            else:
                rest = float(t) - shown if marks else 0.0
                hidden_rest.append(rest if marks and rest > 0 else None)
                # the marks in one order on every bar (`<5` then `..`), not the order of the series that hid them
                hidden_text.append(" ".join(sorted(set(marks), key=lambda m: m == mark(SECONDARY, threshold))))
                end_text.append(fmt_int(t))
                end_at.append(float(t))
        if any(r is not None for r in hidden_rest):
            kw = dict(y=cats, x=hidden_rest, orientation="h") if horizontal else dict(x=cats, y=hidden_rest)
            fig.add_bar(name=HIDDEN_NAME, marker=_hatch(),
                        text=hidden_text, textposition="inside", insidetextanchor="middle", textangle=0,
                        textfont=dict(color=TOTAL_COLOR), hoverinfo="skip", **kw)  # ".." on its side reads ":"
        if label_after is not None:
            end_at = [max(e, _num(a)) if _num(a) is not None else e for e, a in zip(end_at, label_after)]
        if labels:
            kw = dict(y=cats, x=end_at, textposition="middle right") if horizontal else \
                dict(x=cats, y=end_at, textposition="top center")
            fig.add_scatter(mode="text", text=[f" {t}" for t in end_text], showlegend=False, hoverinfo="skip",
                            textfont=dict(color=TOTAL_COLOR), cliponaxis=False, **kw)
    fig.update_layout(barmode="stack", title=title, uniformtext=dict(mode="hide", minsize=11))
    if horizontal:
        fig.update_layout(yaxis=dict(autorange="reversed", type="category"), xaxis_title=axis_title)
        fig.update_xaxes(rangemode="tozero")
    else:
        fig.update_layout(xaxis=dict(type="category"), yaxis_title=axis_title)
    return fig


def sex_series(df: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Women, men and other/unknown as stacked series (other only where the table has any)."""
    return [(s, SEX_LABELS[s], SEX_COLORS[s]) for s in SEXES if s in df]


def sex_bars(df: pd.DataFrame, category: str, title: str, *, horizontal: bool = True,
             targets: pd.Series | None = None, target_name: str = "Mål", axis_title: str | None = None,
             threshold: int = DEFAULT_THRESHOLD, whole=None) -> go.Figure:
    """Counts per category stacked by sex, totals at the end, targets as black strokes where given; `whole` is
    the categories' sum as shown, so a hidden total's bar reaches the largest it can be (see `stacked`)."""
    fig = stacked(df, category, sex_series(df), title, horizontal=horizontal, threshold=threshold,
                  axis_title=axis_title, label_after=None if targets is None else list(targets), whole=whole)
    if targets is not None:
        target_marks(fig, df[category], targets, name=target_name, horizontal=horizontal)
    return fig


def grouped_sex_bars(df: pd.DataFrame, category: str, title: str, *, threshold: int = DEFAULT_THRESHOLD,
                     axis_title: str | None = None, whole: Mapping[str, object] | None = None) -> go.Figure:
    """Counts per category side by side by sex (age groups), each bar with its value.

    A hidden count is a hatched bar in its sex's slot, as tall as it can be from what is shown (the least of what
    the category's `total` column and the sex's count over all categories, `whole`, leave: render.protected.
    cell_ends), labelled with its mark, and "(högst N)" for a `..` so bounded: a hidden one had no bar and its
    mark at the baseline ran into a neighbour's "0" (a board member's walk-through)."""
    fig = go.Figure()
    cats = _cats(df[category])
    sexes = [s for s in SEXES if s in df]
    ends = cell_ends({s: list(df[s]) for s in sexes}, list(df["total"]) if "total" in df else [None] * len(df),
                     {s: (whole or {}).get(s) for s in sexes}, threshold)
    tallest = max([_num(v) or 0.0 for s in sexes for v in df[s] if not is_hidden(v)]
                  + [e for s in sexes for e in ends[s] if e is not None] + [float(threshold)])
    hidden_drawn = False
    for s in sexes:
        vals = [None if is_hidden(v) else _num(v) for v in df[s]]
        fig.add_bar(x=cats, y=vals, name=SEX_LABELS[s], marker_color=SEX_COLORS[s], offsetgroup=s, legendgroup=s,
                    text=["" if is_hidden(v) else (_label(v, threshold) if _num(v) else "0") for v in df[s]],
                    textposition="outside", cliponaxis=False,
                    hovertemplate="%{x}: %{y:,d}<extra>" + SEX_LABELS[s] + "</extra>")
        if not any(is_hidden(v) for v in df[s]):
            continue
        hidden_drawn = True
        heights = [None if not is_hidden(v) else (tallest if e is None else e) for v, e in zip(df[s], ends[s])]
        labels = ["" if not is_hidden(v) else mark(kind_of(v), threshold)
                  + (f" (högst {fmt_int(e)})" if e is not None and kind_of(v) == SECONDARY else "")
                  for v, e in zip(df[s], ends[s])]
        fig.add_bar(x=cats, y=heights, name=SEX_LABELS[s], offsetgroup=s, legendgroup=s, showlegend=False,
                    marker=_hatch(SEX_COLORS[s], SEX_COLORS[s]),
                    text=labels, textposition="outside", cliponaxis=False, hovertext=labels,
                    hovertemplate="%{x}: %{hovertext}<extra>" + SEX_LABELS[s] + "</extra>")  # never the height
    if hidden_drawn:
        _hatch_in_legend(fig, horizontal=False)
    fig.update_layout(barmode="group", title=title, xaxis=dict(type="category"), yaxis_title=axis_title)
    return fig


def target_marks(fig: go.Figure, categories, targets, *, name: str = "Mål", horizontal: bool = True) -> None:
    """Targets as short black strokes across each bar, only where a target exists."""
    keep = [(chart_text(c), t) for c, t in zip(categories, targets) if t is not None and not pd.isna(t)]
    if not keep:
        return
    cs, ts = zip(*keep)
    fig.add_scatter(x=ts if horizontal else cs, y=cs if horizontal else ts, mode="markers", name=name,
                    marker=dict(symbol="line-ns" if horizontal else "line-ew", size=30,
                                line=dict(width=4, color=TARGET_LINE["color"])),
                    hovertemplate="Mål: %{" + ("x" if horizontal else "y") + "}<extra></extra>")


def agency_bars(df: pd.DataFrame, category: str, title: str, *, horizontal: bool = False, value: str = "total",
                axis_title: str | None = None, threshold: int = DEFAULT_THRESHOLD, whole=None) -> go.Figure:
    """Counts per category (long table: category, agency, value) stacked by agency in the fixed order; `whole`
    bounds a hidden total's bar as in `stacked` (at least the categories' sum, as shown)."""
    wide = df.pivot_table(index=category, columns="agency", values=value, aggfunc="first", sort=False)
    wide = wide.reindex(columns=[a for a in AGENCY_ORDER if a in wide.columns])
    order = list(dict.fromkeys(df[category]))
    wide = wide.reindex(order).reset_index()
    for a in wide.columns[1:]:
        wide[a] = [0 if (v is None or (not is_hidden(v) and pd.isna(v))) else v for v in wide[a]]
    totals = df.groupby(category, sort=False)["_total"].first() if "_total" in df else None
    if totals is not None:
        wide["total"] = list(totals.reindex(order))
    series = [(a, a, AGENCY_COLORS.get(a, MISSING_COLOR)) for a in wide.columns[1:] if a in AGENCY_COLORS]
    return stacked(wide, category, series, title, total="total" if totals is not None else None,
                   horizontal=horizontal, threshold=threshold, axis_title=axis_title, whole=whole)


def reason_bars(df: pd.DataFrame, category: str, title: str, *, threshold: int = DEFAULT_THRESHOLD) -> go.Figure:
    """Exits per category (long: category, reason, label, total, and `_total` per category) stacked by reason."""
    codes = list(dict.fromkeys(df.reason))
    wide = df.pivot_table(index=category, columns="reason", values="total", aggfunc="first", sort=False)
    order = list(dict.fromkeys(df[category]))
    wide = wide.reindex(order).reindex(columns=codes).reset_index()
    for c in codes:
        wide[c] = [0 if (not is_hidden(v) and pd.isna(v)) else v for v in wide[c]]
    labels = dict(zip(df.reason, df.label))
    if "_total" in df:
        wide["total"] = list(df.groupby(category, sort=False)["_total"].first().reindex(order))
    series = [(c, labels[c], exit_reason_color(c)) for c in codes]
    fig = stacked(wide, category, series, title, total="total" if "_total" in df else None, threshold=threshold,
                  axis_title="Avslutade")
    # seven reasons make a legend of four rows: at Plotly's default height the bars were too thin for any segment's
    # value (uniformtext hides what does not fit at 11 px); about 40 px a bar keeps them in
    return fig.update_layout(height=max(450, 230 + 40 * len(order)))


def share_bars(df: pd.DataFrame, category: str, value: str, title: str, *, color: str, name: str,
               target: str | None = None, flag: str | None = None, reference: float | None = None,
               reference_name: str | None = None) -> go.Figure:
    """A share per category with its value on the bar; register targets as strokes, a common reference as a line.

    `flag` marks bars to outline in black (a large deviation), which the caption names in words.
    """
    cats = _cats(df[category])
    vals = [_num(v) for v in df[value]]
    flags = list(df[flag]) if flag else [False] * len(df)
    fig = go.Figure()
    texts = [fmt_pct(v) if v is not None else "–" for v in vals]
    fig.add_bar(y=cats, x=vals, orientation="h", name=name, marker=dict(
        color=color, line=dict(color=[FLAG_LINE["color"] if f else color for f in flags],
                               width=[FLAG_LINE["width"] if f else 0 for f in flags])),
        hovertemplate="%{y}: %{x:.1%}<extra></extra>")
    targets = [None] * len(df)
    if target:
        target_marks(fig, df[category], df[target], name="Mål (insatsregistret)")
        targets = [_num(t) for t in df[target]]
    # Each value is written after its bar, or after its target stroke where that ends later, and past the
    # reference line where the text would otherwise run across it: neither a stroke nor the line covers a value.
    at = []
    for v, t in zip(vals, targets):
        start = max(v or 0.0, t or 0.0)
        if reference is not None and start <= reference < start + SHARE_LABEL_WIDTH:
            start = reference
        at.append(start)
    fig.add_scatter(y=cats, x=at, mode="text", text=[f"  {t}" for t in texts], textposition="middle right",
                    showlegend=False, hoverinfo="skip", cliponaxis=False, textfont=dict(color=TOTAL_COLOR))
    if reference is not None:
        # the reference is named in the legend, not written on the plot, where it ran into a value ("50,0 %")
        fig.add_vline(x=reference, line=dict(color=TARGET_LINE["color"], dash="dash", width=2))
        fig.add_scatter(x=[None], y=[None], mode="lines", name=f"Jämförelse: {reference_name or fmt_pct(reference, 0)}",
                        line=dict(color=TARGET_LINE["color"], dash="dash", width=2), hoverinfo="skip")
    fig.update_layout(title=title, xaxis=dict(**percent_axis(), range=[0, 1.15]),
                      yaxis=dict(autorange="reversed", type="category"),
                      showlegend=bool(target) or reference is not None)
    return fig


def reason_share_by_sex(df: pd.DataFrame, title: str, *, hidden: Mapping[str, list] | None = None) -> go.Figure:
    """Each reason's share of exits within each sex, grouped horizontal bars with their values.

    `hidden`: per sex, for each row None (drawn as it is) or (largest share, mark) for a count protection hides:
    its bar is drawn hatched to the largest share it can be (render.protected.cell_ends) and labelled with its
    mark, "<5 ≤ 4 %", as the board pack draws it; a hidden share left out read as nobody."""
    fig = go.Figure()
    cats = _cats(df.label)
    any_hidden = False
    for s in SEXES:
        col = f"{s}_share"
        marks = list((hidden or {}).get(s) or [None] * len(df))
        if col not in df or not (pd.Series(df[col]).notna().any() or any(m is not None for m in marks)):
            continue
        vals, texts, bounds, marks_text = [], [], [], []
        for v, h in zip(df[col], marks):
            if h is not None:
                end, m = h
                any_hidden = True
                vals.append(None)
                texts.append("")
                bounds.append(1.0 if end is None else min(1.0, float(end)))
                marks_text.append(m if end is None else f"{m} ≤ {fmt_pct(min(1.0, float(end)), 0)}")
            else:
                v = _num(v)
                vals.append(v)
                texts.append(fmt_pct(v, 0) if v is not None else "–")
                bounds.append(None)
                marks_text.append("")
        # the hidden ones in a trace of their own in the same slot (offsetgroup), hatched in the sex's colour
        fig.add_bar(y=cats, x=vals, name=SEX_LABELS[s], orientation="h", marker_color=SEX_COLORS[s], text=texts,
                    textposition="outside", cliponaxis=False, offsetgroup=s, legendgroup=s,
                    hovertemplate="%{y}: %{x:.1%}<extra>" + SEX_LABELS[s] + "</extra>")
        if any(b is not None for b in bounds):
            fig.add_bar(y=cats, x=bounds, name=SEX_LABELS[s], orientation="h", text=marks_text,
                        textposition="outside", cliponaxis=False, offsetgroup=s, legendgroup=s, showlegend=False,
                        marker=_hatch(SEX_COLORS[s], SEX_COLORS[s]), hovertext=marks_text,
                        hovertemplate="%{y}: %{hovertext}<extra>" + SEX_LABELS[s] + "</extra>")  # never the bound
    if any_hidden:
        _hatch_in_legend(fig, horizontal=True)
    fig.update_layout(barmode="group", title=title, xaxis=dict(**percent_axis(), range=[0, 1.1]),
                      yaxis=dict(autorange="reversed", type="category"))
    return fig


def share_over_time(df: pd.DataFrame, period: str, title: str, target: float | None = None, *,
                    sexes: Sequence[str] = (*SEXES, "total")) -> go.Figure:
    """Shares per period, one line per sex and a thicker total line with its values; a target line if one."""
    fig = go.Figure()
    for s in sexes:
        col = f"share_{s}"
        if col in df and pd.Series(df[col]).notna().any():
            fig.add_scatter(x=df[period].astype(str), y=df[col], name=SEX_LABELS[s],
                            mode="lines+markers+text" if s == "total" else "lines+markers",
                            text=[fmt_pct(v, 0) if v is not None and not pd.isna(v) else "" for v in df[col]]
                            if s == "total" else None, textposition="top center",
                            line=dict(color=SEX_COLORS[s], width=5 if s == "total" else 3,
                                      dash="dot" if s == "other" else "solid"))
    if target is not None and not pd.isna(target):
        fig.add_hline(y=target, line=dict(color=TARGET_LINE["color"], dash="dash", width=2),
                      annotation_text=f"Mål {fmt_pct(target, 0)}", annotation_position="top left")
    fig.update_layout(title=title, yaxis=dict(**percent_axis(0.1), rangemode="tozero"), xaxis=dict(type="category"))
    return fig


def money_bars(df: pd.DataFrame, category: str, series: dict[str, tuple[str, str]], title: str, *,
               hatch: pd.Series | None = None, horizontal: bool = True) -> go.Figure:
    """Amounts in kronor per category, grouped, each bar with its value; `hatch` marks figures on budget."""
    fig = go.Figure()
    cats = _cats(df[category])
    for col, (name, color) in series.items():
        vals = [_num(v) for v in df[col]]
        kw = dict(y=cats, x=vals, orientation="h") if horizontal else dict(x=cats, y=vals)
        fig.add_bar(name=name, marker_color=color,
                    marker_pattern_shape=None if hatch is None else ["/" if h else "" for h in hatch],
                    text=[fmt_kr(v) if v is not None else "–" for v in vals], textposition="outside",
                    cliponaxis=False,
                    hovertemplate="%{" + ("y" if horizontal else "x") + "}: %{" + ("x" if horizontal else "y")
                    + ":,.0f} kr<extra>" + name + "</extra>", **kw)
    axis = dict(MONEY_AXIS, rangemode="tozero")
    top = max([v for col in series for v in map(_num, df[col]) if v is not None] or [0])
    if top > 0:
        axis["range"] = [0, top * 1.25]  # room for the value written beside the longest bar
    if horizontal:
        fig.update_layout(barmode="group", title=title, xaxis=axis, yaxis=dict(autorange="reversed", type="category"))
    else:
        fig.update_layout(barmode="group", title=title, xaxis=dict(type="category"), yaxis=axis)
    return fig


def stacked_money(df: pd.DataFrame, category: str, stack: str, title: str) -> go.Figure:
    """Cost per category stacked by cost type or funder, each with its fixed colour and its amount.

    Beyond TOP_N + 1 categories, the TOP_N largest by cost, and the title says so: the rest's sum on the same
    kronor axis would dwarf them (the chart's table has every category).
    """
    totals = df.groupby(category, sort=False).cost.sum(min_count=1).fillna(0)
    if len(totals) > TOP_N + 1:
        keep = set(totals.sort_values(ascending=False, kind="stable").index[:TOP_N])
        df = df[df[category].isin(keep)]
        title = f"{title}: de {TOP_N} största av {len(totals)}"
    fig = go.Figure()
    cats_all = list(dict.fromkeys(df[category]))
    for v in df[stack].drop_duplicates():
        x = df[df[stack] == v].set_index(category).reindex(cats_all)
        fig.add_bar(y=_cats(cats_all), x=x.cost, name=chart_text(v), orientation="h",
                    marker_color=category_color(stack, v),
                    text=[fmt_kr(c) if c is not None and not pd.isna(c) else "" for c in x.cost],
                    textposition="inside", textfont=dict(color=label_color(category_color(stack, v))),
                    hovertemplate="%{y}: %{x:,.0f} kr<extra>" + chart_text(v) + "</extra>")
    fig.update_layout(barmode="stack", title=title, xaxis=dict(MONEY_AXIS),
                      yaxis=dict(autorange="reversed", type="category"), uniformtext=dict(mode="hide", minsize=11))
    return fig


def sankey(flow: pd.DataFrame, title: str) -> go.Figure:
    starts = [f"Före: {chart_text(x)}" for x in flow.income_at_start.drop_duplicates()]
    ends = [f"Efter: {chart_text(x)}" for x in flow.income_at_exit.drop_duplicates()]
    idx = {n: i for i, n in enumerate(starts + ends)}
    fig = go.Figure(go.Sankey(
        node=dict(label=starts + ends, pad=14, thickness=18, color="#5B6770"),
        link=dict(source=[idx[f"Före: {chart_text(x)}"] for x in flow.income_at_start],
                  target=[idx[f"Efter: {chart_text(x)}"] for x in flow.income_at_exit],
                  value=flow.total, color="rgba(29,53,87,0.25)"),
        valueformat=",d"))
    fig.update_layout(title=title)
    return fig


def duration_boxes(stats: pd.DataFrame, min_n: int = 1) -> go.Figure:
    """Months in the initiative per exit reason, from percentiles (box: quartiles, whiskers: 10th–90th),
    one box per reason on its own row with the median written beside it; groups under `min_n` left out."""
    fig = go.Figure()
    rows = stats[(stats.sex == "total") & (stats.n >= min_n)]
    for r in rows.itertuples():
        name = chart_text(r.label)
        fig.add_box(y=[name], q1=[r.q1_months], median=[r.median_months], q3=[r.q3_months],
                    lowerfence=[r.p10_months], upperfence=[r.p90_months], orientation="h",
                    marker_color=exit_reason_color(r.reason), name=name, hoverinfo="skip")
        fig.add_scatter(y=[name], x=[r.p90_months], mode="text", showlegend=False, hoverinfo="skip",
                        text=[f"  median {r.median_months:.1f} mån".replace(".", ",")], textposition="middle right",
                        cliponaxis=False)
    top = max([float(v) for v in rows.p90_months if v is not None and not pd.isna(v)] or [0.0])
    fig.update_layout(title="Månader från start till avslut, per avslutsorsak (låda: mittersta hälften, "
                            "streck: 10–90 %)", xaxis_title="Månader", showlegend=False,
                      yaxis=dict(type="category", autorange="reversed"),
                      # the median is written right of the longest whisker: the axis leaves it room (it was cut off)
                      xaxis=dict(range=[0, top * MEDIAN_ROOM if top > 0 else 1], rangemode="tozero"))
    return fig


SHARE_LABEL_WIDTH = 0.16  # on a 0–115 % axis, about the width of "100,0 %" beside a bar (16 or 24 px text)
MEDIAN_ROOM = 1.75  # the x axis of duration_boxes runs to this times the longest whisker: "median 12,5 mån" fits


_NOT_ADDITIVE = ("share", "per_", "target", "flag")  # column names of figures a sum would falsify


def _additive(column: str) -> bool:
    return not any(word in column for word in _NOT_ADDITIVE)


def top_n(df: pd.DataFrame, category: str, n: int = TOP_N, by: str = "total") -> pd.DataFrame:
    """The `n` largest categories and one "Övriga" row adding up the rest, so no chart draws a smear of bars.

    Hidden counts (codes) in the rest make that row's figures hidden too, as `..`. Only quantities that add
    up are summed (counts, kronor); a share, a target, an amount per person or a flag of the rest is not the
    sum of the parts' values, so "Övriga" has none (the table under the chart has every row).
    """
    if len(df) <= n + 1:
        return df
    key = df[by].mask(_hidden(df[by]), -1)
    order = key.sort_values(ascending=False, kind="stable").index
    top, rest = df.loc[order[:n]], df.loc[order[n:]]
    row = {category: f"{OTHERS} ({len(rest)})"}
    for c in df.columns:
        if c == category:
            continue
        col = rest[c]
        if not _additive(c):
            row[c] = False if c == "flag" else None
        elif pd.api.types.is_numeric_dtype(col) or (not pd.api.types.is_string_dtype(col)  # names: not summed
                                                     and col.map(lambda v: isinstance(v, (int, float))).all()):
            row[c] = -2 if _hidden(col).any() else col.sum()
    return pd.concat([top, pd.DataFrame([row])], ignore_index=True)


def _hidden(col: pd.Series) -> pd.Series:
    """`is_hidden` of each value, column-wise where the column is numeric (the codes are numbers): a national
    table has thousands of rows, and top_n asks it of every column."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return col.isin([HIDDEN_PRIMARY, HIDDEN_SECONDARY])
    return col.map(is_hidden).astype(bool)
