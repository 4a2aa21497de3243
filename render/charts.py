"""Figure builders shared by the pages, the presentation mode and (as data) the board pack.

Each takes a metrics DataFrame (already protected: hidden counts are missing and simply
not drawn) and returns a Plotly figure with the fixed category colours. Styling is
applied by `ui.theme.apply_theme` when the figure is shown.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.vocabulary import AGENCY_ORDER, SEX_LABELS, SEXES

from .format import fmt_pct
from .theme import (AGENCY_COLORS, HIGHLIGHT_COLOR, MISSING_COLOR, SEX_COLORS, TARGET_LINE, category_color,
                    exit_reason_color)


def _target_markers(fig: go.Figure, y, x, *, name: str = "Mål", text=None, horizontal: bool = True) -> None:
    """Goal marks drawn as short dark strokes across each bar."""
    keep = [(a, b) for a, b in zip(y, x) if b is not None and not pd.isna(b)]
    if not keep:
        return
    ys, xs = zip(*keep)
    fig.add_scatter(
        x=xs if horizontal else ys, y=ys if horizontal else xs, mode="markers", name=name,
        marker=dict(symbol="line-ns" if horizontal else "line-ew", size=30,
                    line=dict(width=4, color=TARGET_LINE.get("color", "#222"))),
        hovertemplate="Mål: %{x}<extra></extra>" if horizontal else "Mål: %{y}<extra></extra>",
    )


def sex_bars(df: pd.DataFrame, category: str, title: str, *, horizontal: bool = True, barmode: str = "stack",
             targets: pd.Series | None = None, axis_title: str | None = None) -> go.Figure:
    """Counts per category split by sex (stacked or grouped)."""
    fig = go.Figure()
    for s in SEXES:
        if df[s].fillna(0).sum() or s != "other":
            kw = dict(y=df[category], x=df[s], orientation="h") if horizontal else dict(x=df[category], y=df[s])
            fig.add_bar(name=SEX_LABELS[s], marker_color=SEX_COLORS[s], hovertemplate=_hover(s, horizontal), **kw)
    if barmode == "stack" and "total" in df:
        # where protection hides parts of a shown total, the rest is drawn grey: no category looks empty
        parts = df[list(SEXES)].astype("Float64")
        rest = [t - p.sum() if p.isna().any() and not pd.isna(t) else None
                for t, (_, p) in zip(df["total"], parts.iterrows())]
        if any(r is not None for r in rest):
            kw = dict(y=df[category], x=rest, orientation="h") if horizontal else dict(x=df[category], y=rest)
            fig.add_bar(name="Uppdelning dold (<5)", marker_color=MISSING_COLOR, marker_pattern_shape="x",
                        hovertemplate="%{" + ("y" if horizontal else "x") + "}: uppdelningen på kön är dold<extra></extra>",
                        **kw)
    if targets is not None:
        _target_markers(fig, df[category], targets, horizontal=horizontal)
    fig.update_layout(barmode=barmode, title=title)
    if horizontal:
        fig.update_layout(yaxis=dict(autorange="reversed", type="category"), xaxis_title=axis_title)
    else:
        fig.update_layout(xaxis=dict(type="category"), yaxis_title=axis_title)
    return fig


def _hover(sex: str, horizontal: bool) -> str:
    cat, val = ("y", "x") if horizontal else ("x", "y")
    return "%{" + cat + "} – " + SEX_LABELS[sex] + ": %{" + val + ":,d}<extra></extra>"


def agency_bars(df: pd.DataFrame, category: str, title: str, *, horizontal: bool = False,
                value: str = "total", axis_title: str | None = None) -> go.Figure:
    """Counts per category stacked by agency, in the fixed agency order and colours."""
    fig = go.Figure()
    for agency in AGENCY_ORDER:
        d = df[df.agency == agency]
        if len(d):
            kw = dict(y=d[category], x=d[value], orientation="h") if horizontal else dict(x=d[category], y=d[value])
            fig.add_bar(name=agency, marker_color=AGENCY_COLORS[agency],
                        hovertemplate="%{" + ("y" if horizontal else "x") + "} – " + agency + ": %{"
                        + ("x" if horizontal else "y") + ":,d}<extra></extra>", **kw)
    fig.update_layout(barmode="stack", title=title)
    if horizontal:
        fig.update_layout(yaxis=dict(autorange="reversed", type="category"), xaxis_title=axis_title)
    else:
        fig.update_layout(xaxis=dict(type="category", title=None), yaxis_title=axis_title)
    return fig


def agency_by_sex(df: pd.DataFrame, title: str) -> go.Figure:
    """Started per agency, stacked by sex: the annual-report table as a chart (a hidden split shows grey)."""
    return sex_bars(df, "agency", title, horizontal=True, axis_title="Nya deltagare")


def reason_bars(df: pd.DataFrame, category: str, title: str) -> go.Figure:
    """Exits per category stacked by exit reason (colours fixed per reason)."""
    fig = go.Figure()
    for code in df.reason.drop_duplicates():
        d = df[df.reason == code]
        fig.add_bar(y=d[category], x=d.total, name=d.label.iloc[0], orientation="h", marker_color=exit_reason_color(code))
    fig.update_layout(barmode="stack", title=title, yaxis=dict(autorange="reversed", type="category"),
                      xaxis_title="Avslutade")
    return fig


def reason_share_by_sex(df: pd.DataFrame, title: str) -> go.Figure:
    """Each reason's share of exits within each sex, as grouped horizontal bars."""
    fig = go.Figure()
    for s in SEXES:
        col = f"{s}_share"
        if pd.Series(df[col]).notna().any():
            fig.add_bar(y=df.label, x=df[col], name=SEX_LABELS[s], orientation="h", marker_color=SEX_COLORS[s],
                        hovertemplate="%{y}: %{x:.1%}<extra>" + SEX_LABELS[s] + "</extra>")
    fig.update_layout(barmode="group", title=title, xaxis=dict(tickformat=".0%"),
                      yaxis=dict(autorange="reversed", type="category"))
    return fig


def share_vs_target(df: pd.DataFrame, category: str, value: str, target: str, title: str, *,
                    flag: str | None = None, color: str = SEX_COLORS["women"]) -> go.Figure:
    """A share per category as bars, with the target as a stroke and large gaps highlighted."""
    colors = [HIGHLIGHT_COLOR if flag and f else color for f in (df[flag] if flag else [False] * len(df))]
    fig = go.Figure()
    fig.add_bar(y=df[category], x=df[value], orientation="h", name=title.split(",")[0], marker_color=colors,
                text=[fmt_pct(v) for v in df[value]], textposition="inside", insidetextanchor="end",
                textfont=dict(color="#FFFFFF"), cliponaxis=False)
    _target_markers(fig, df[category], df[target])
    fig.update_layout(title=title, xaxis=dict(tickformat=".0%", range=[0, 1.12]),
                      yaxis=dict(autorange="reversed", type="category"), showlegend=True)
    return fig


def share_over_time(df: pd.DataFrame, period: str, title: str, target: float | None = None) -> go.Figure:
    """Shares per period, one line per sex and a thicker total line; an optional goal line."""
    fig = go.Figure()
    for s in (*SEXES, "total"):
        col = f"share_{s}"
        if pd.Series(df[col]).notna().any():
            fig.add_scatter(x=df[period].astype(str), y=df[col], name=SEX_LABELS[s], mode="lines+markers",
                            line=dict(color=SEX_COLORS[s], width=5 if s == "total" else 3,
                                      dash="dot" if s == "other" else "solid"))
    if target is not None and not pd.isna(target):
        fig.add_hline(y=target, line=dict(color=TARGET_LINE.get("color", "#222"), dash="dash", width=2),
                      annotation_text=f"Mål {fmt_pct(target, 0)}", annotation_position="top left")
    fig.update_layout(title=title, yaxis=dict(tickformat=".0%", rangemode="tozero"), xaxis=dict(type="category"))
    return fig


def money_bars(df: pd.DataFrame, category: str, series: dict[str, tuple[str, str]], title: str, *,
               hatch: pd.Series | None = None) -> go.Figure:
    """Grouped bars of amounts in kronor; `hatch` marks bars computed on budget rather than actual."""
    fig = go.Figure()
    for col, (name, color) in series.items():
        fig.add_bar(x=df[category], y=df[col], name=name, marker_color=color,
                    marker_pattern_shape=None if hatch is None else ["/" if h else "" for h in hatch],
                    hovertemplate="%{x}: %{y:,.0f} kr<extra>" + name + "</extra>")
    fig.update_layout(barmode="group", title=title, xaxis=dict(type="category"),
                      yaxis=dict(tickformat=",.0f", ticksuffix=" kr"))
    return fig


def sankey(flow: pd.DataFrame, title: str) -> go.Figure:
    starts = [f"Före: {x}" for x in flow.income_at_start.drop_duplicates()]
    ends = [f"Efter: {x}" for x in flow.income_at_exit.drop_duplicates()]
    idx = {n: i for i, n in enumerate(starts + ends)}
    fig = go.Figure(go.Sankey(
        node=dict(label=starts + ends, pad=14, thickness=18, color="#5B6770"),
        link=dict(source=[idx[f"Före: {x}"] for x in flow.income_at_start],
                  target=[idx[f"Efter: {x}"] for x in flow.income_at_exit],
                  value=flow.total, color="rgba(0,114,178,0.25)"),
        valueformat=",d"))
    fig.update_layout(title=title)
    return fig


def duration_boxes(stats: pd.DataFrame, min_n: int = 1) -> go.Figure:
    """Months in the initiative per exit reason, drawn from percentiles (box: quartiles, whiskers:
    10th–90th percentile) so that no individual's stay reaches the browser; groups under `min_n` left out."""
    fig = go.Figure()
    for r in stats[(stats.sex == "total") & (stats.n >= min_n)].itertuples():
        fig.add_box(name=r.label, q1=[r.q1_months], median=[r.median_months], q3=[r.q3_months],
                    lowerfence=[r.p10_months], upperfence=[r.p90_months], marker_color=exit_reason_color(r.reason),
                    hoverinfo="name+y")
    fig.update_layout(title="Månader från start till avslut, per avslutsorsak (låda: kvartiler, streck: 10–90 %)",
                      yaxis_title="Månader", showlegend=False, xaxis=dict(type="category"))
    return fig


def stacked_money(df: pd.DataFrame, category: str, stack: str, title: str) -> go.Figure:
    """Cost per category stacked by cost type or funder, each with its fixed colour."""
    fig = go.Figure()
    for v in df[stack].drop_duplicates():
        x = df[df[stack] == v]
        fig.add_bar(x=x[category], y=x.cost, name=v, marker_color=category_color(stack, v),
                    hovertemplate="%{x}: %{y:,.0f} kr<extra>" + str(v) + "</extra>")
    fig.update_layout(barmode="stack", title=title, xaxis=dict(type="category"),
                      yaxis=dict(tickformat=",.0f", ticksuffix=" kr"))
    return fig
