"""Files → raw rows. Row i of `Table.rows` is the row Excel (or a text editor) shows as i+1."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
TEXT_SUFFIXES = {".csv", ".txt"}


@dataclass
class Table:
    file: str
    sheet: str | None
    rows: list[list[object]]


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; otherwise Windows-1252, which Swedish Excel writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def sniff_delimiter(text: str) -> str:
    """Pick `;`, tab or `,` by which splits the first non-blank lines most consistently."""
    lines = [ln for ln in text.splitlines() if ln.strip()][:20]
    best, best_score = ";", -1
    for delim in (";", "\t", ","):
        counts = [len(next(csv.reader([ln], delimiter=delim))) for ln in lines]
        if not counts:
            continue
        header_width = max(counts)
        score = (header_width > 1) * (sum(c == header_width for c in counts) * 100 + header_width)
        if score > best_score:
            best, best_score = delim, score
    return best


def read_csv(path: Path) -> list[Table]:
    text = decode_text(path.read_bytes())
    delim = sniff_delimiter(text)
    rows: list[list[object]] = [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delim)]
    return [Table(path.name, None, rows)]


def read_excel(path: Path) -> list[Table]:
    sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine", dtype=object)
    tables = []
    for name, df in sheets.items():
        rows = [[None if _is_missing(v) else v for v in row] for row in df.itertuples(index=False, name=None)]
        tables.append(Table(path.name, str(name), rows))
    return tables


def read_file(path: Path) -> list[Table]:
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path)
    if suffix in TEXT_SUFFIXES:
        return read_csv(path)
    raise ValueError(f"Filtypen {suffix or '(ingen)'} stöds inte: använd .xlsx, .csv eller .txt")


def _is_missing(v: object) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
