"""Swedish display formatting: exact strings, and missing values never shown as 0."""
import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.vocabulary import SEX_LABELS
from render.format import (
    DASH,
    fmt_date,
    fmt_datetime,
    fmt_delta_int,
    fmt_int,
    fmt_kr,
    fmt_number,
    fmt_pct,
    fmt_pp,
    fmt_tkr,
    format_table,
    is_missing,
)

NB = "\u00a0"
MISSING = [None, float("nan"), np.nan, pd.NA, pd.NaT, np.float64("nan"), ""]
ROOT = Path(__file__).resolve().parents[1]


def test_dash_is_an_en_dash():
    assert DASH == "\u2013"


@pytest.mark.parametrize("fn", [fmt_int, fmt_kr, fmt_tkr, fmt_pct, fmt_pp, fmt_delta_int, fmt_date, fmt_datetime,
                                lambda x: fmt_number(x, 2)])
@pytest.mark.parametrize("value", MISSING, ids=repr)
def test_missing_is_a_dash_everywhere(fn, value):
    assert fn(value) == "–"


@pytest.mark.parametrize("value", MISSING, ids=repr)
def test_is_missing(value):
    assert is_missing(value)


@pytest.mark.parametrize("value", [0, 0.0, "x", False, dt.date(2021, 1, 1)], ids=repr)
def test_not_missing(value):
    assert not is_missing(value)


def test_zero_is_zero_not_missing():
    assert fmt_int(0) == "0"
    assert fmt_kr(0) == f"0{NB}kr"
    assert fmt_pct(0) == f"0,0{NB}%"


def test_fmt_int_groups_with_no_break_space():
    assert fmt_int(1234567) == f"1{NB}234{NB}567"
    assert fmt_int(999) == "999"
    assert fmt_int(1000) == f"1{NB}000"
    assert fmt_int(-1234567) == f"-1{NB}234{NB}567"
    assert fmt_int(np.int64(1234)) == f"1{NB}234"
    assert fmt_int(1234.0) == f"1{NB}234"
    assert fmt_int(Decimal("1234")) == f"1{NB}234"
    assert " " not in fmt_int(123456789)  # an ordinary space would let the number wrap


def test_rounding_is_half_away_from_zero_on_the_written_number():
    assert fmt_int(2.5) == "3"
    assert fmt_int(-2.5) == "-3"
    assert fmt_number(2.675, 2) == "2,68"  # binary 2.67499… would round down in Python's format()
    assert fmt_number(0.125, 2) == "0,13"
    assert fmt_number(-0.04, 1) == "0,0"  # never "-0,0"
    assert fmt_int(-0.4) == "0"


def test_fmt_number():
    assert fmt_number(1234.5, 1) == f"1{NB}234,5"
    assert fmt_number(1234.5) == f"1{NB}235"
    assert fmt_number(0.5, 3) == "0,500"
    assert fmt_number(float("inf")) == "–"  # x/0 is unknown, not a number to show
    assert fmt_number(float("-inf"), 1) == "–"


def test_text_is_shown_as_it_is():
    assert fmt_int("Totalt") == "Totalt"
    assert fmt_int("1234") == f"1{NB}234"


def test_fmt_kr():
    assert fmt_kr(1234567) == f"1{NB}234{NB}567{NB}kr"
    assert fmt_kr(1234.5, 2) == f"1{NB}234,50{NB}kr"
    assert fmt_kr(-1500) == f"-1{NB}500{NB}kr"
    assert fmt_kr(1500, signed=True) == f"+1{NB}500{NB}kr"
    assert fmt_kr(-1500, signed=True) == f"-1{NB}500{NB}kr"
    assert fmt_kr(0, signed=True) == f"±0{NB}kr"
    assert fmt_kr(None, signed=True) == "–"


def test_fmt_tkr_is_thousands_of_kronor():
    assert fmt_tkr(1234567) == f"1{NB}235{NB}tkr"
    assert fmt_tkr(2410500) == f"2{NB}411{NB}tkr"
    assert fmt_tkr(499) == f"0{NB}tkr"
    assert fmt_tkr(500) == f"1{NB}tkr"
    assert fmt_tkr(1234567, 1) == f"1{NB}234,6{NB}tkr"


def test_fmt_pct_takes_a_share():
    assert fmt_pct(0.4589) == f"45,9{NB}%"
    assert fmt_pct(None) == "–"
    assert fmt_pct(1) == f"100,0{NB}%"
    assert fmt_pct(0.5, 0) == f"50{NB}%"
    assert fmt_pct(0.00125, 2) == f"0,13{NB}%"
    assert fmt_pct(-0.0001) == f"0,0{NB}%"
    assert fmt_pct(np.float64(0.1234)) == f"12,3{NB}%"


def test_fmt_pp_is_signed_percentage_points():
    assert fmt_pp(0.032) == f"+3,2{NB}procentenheter"
    assert fmt_pp(-0.01) == f"-1,0{NB}procentenheter"
    assert fmt_pp(0) == f"±0,0{NB}procentenheter"
    assert fmt_pp(-0.0004) == f"±0,0{NB}procentenheter"
    assert fmt_pp(0.1).lstrip("+") == f"10,0{NB}procentenheter"
    assert fmt_pp(0.25, 0) == f"+25{NB}procentenheter"


def test_fmt_delta_int():
    assert fmt_delta_int(12) == "+12"
    assert fmt_delta_int(-3) == "-3"
    assert fmt_delta_int(0) == "±0"
    assert fmt_delta_int(1234) == f"+1{NB}234"
    assert fmt_delta_int(np.int64(-7)) == "-7"


@pytest.mark.parametrize("value", [
    dt.date(2021, 3, 5),
    dt.datetime(2021, 3, 5, 14, 30),
    pd.Timestamp("2021-03-05"),
    pd.Timestamp("2021-03-05 23:59", tz="Europe/Stockholm"),
    np.datetime64("2021-03-05"),
    "2021-03-05",
    "2021-03-05T14:30:00",
    "2021-03-05T14:30:00Z",
    " 2021-03-05 ",
], ids=repr)
def test_fmt_date(value):
    assert fmt_date(value) == "2021-03-05"


def test_fmt_date_leaves_non_dates_alone():
    assert fmt_date("okänt") == "okänt"


def test_fmt_datetime():
    assert fmt_datetime("2025-01-02T13:45:12") == "2025-01-02 13:45"
    assert fmt_datetime(dt.datetime(2025, 1, 2, 8, 5)) == "2025-01-02 08:05"
    assert fmt_datetime(dt.date(2025, 1, 2)) == "2025-01-02"


def test_sex_labels():
    assert SEX_LABELS == {"women": "Kvinnor", "men": "Män", "other": "Annat/okänt", "total": "Totalt"}


def test_format_table_formats_a_copy():
    df = pd.DataFrame({
        "Insats": ["Steg", "Bro"],
        "Deltagare": pd.array([1234, None], dtype="Int64"),
        "Kostnad": [1234567.0, np.nan],
        "Budget": [2410500, 0],
        "Andel": [0.4589, None],
        "Start": pd.to_datetime(["2021-03-05", None]),
    })
    out = format_table(df, {"Deltagare": "int", "Kostnad": "kr", "Budget": "tkr", "Andel": "pct", "Start": "date",
                            "Finns inte": "int"})
    assert out.to_dict("list") == {
        "Insats": ["Steg", "Bro"],
        "Deltagare": [f"1{NB}234", "–"],
        "Kostnad": [f"1{NB}234{NB}567{NB}kr", "–"],
        "Budget": [f"2{NB}411{NB}tkr", f"0{NB}tkr"],
        "Andel": [f"45,9{NB}%", "–"],
        "Start": ["2021-03-05", "–"],
    }
    assert df["Deltagare"].dtype == "Int64" and df.loc[0, "Kostnad"] == 1234567.0  # caller's frame untouched
    assert list(out.index) == list(df.index)


def test_format_table_accepts_functions_and_duplicate_columns():
    df = pd.DataFrame([[1, 2]], columns=["a", "a"])
    out = format_table(df, {"a": lambda v: f"<{v}>"})
    assert out.values.tolist() == [["<1>", "<2>"]]


def test_format_table_refuses_unknown_kind():
    with pytest.raises(ValueError, match="procent"):
        format_table(pd.DataFrame({"a": [1]}), {"a": "procent"})


def test_a_key_figure_in_kronor_fits_its_box():
    from render.format import fmt_kr_kpi

    plain = lambda s: s.replace("\xa0", " ")  # noqa: E731 - the formats use no-break spaces
    assert plain(fmt_kr_kpi(19_000_000)) == "19 000 000 kr"  # an association's year: exact
    assert plain(fmt_kr_kpi(999_999_999)) == "999 999 999 kr"
    assert plain(fmt_kr_kpi(33_652_146_893)) == "33,65 mdkr"  # the nation over 15 years
    assert fmt_kr_kpi(None) == "–" and fmt_kr_kpi(float("nan")) == "–"
