#!/usr/bin/env python3
"""Real time series that Debian packages ship, split into a training part and a held-out part.

Sources (all read from the installed files, no network, no R needed):
    apt-get install -y python3-rdata r-cran-forecast r-cran-modeldata r-cran-tseries r-cran-aer \
        python3-vega-datasets python3-statsmodels
    - R's `datasets` (r-base-core), `forecast`, `modeldata`: lazy-load databases (Rdata.rdx/.rdb);
    - R's `tseries` and `AER`: .rda files;
    - vega-datasets and statsmodels: CSV files.

An R lazy-load database is an index (`.rdx`, gzip of an R serialization) naming, per object, an
(offset, length) chunk of the `.rdb` file; a chunk is a 4-byte big-endian length followed by 'Z' and
an xz stream, or directly by a zlib stream. Each decompressed chunk is an R serialization, which
python3-rdata parses once the `RDX3\\n` file header is put in front of it.

Every series gets a frequency, a season length (the seasonal-naive lag) and a horizon:

    frequency       season  horizon         frequency       season  horizon
    half-hourly     48      48              weekly          1       8
    hourly          24      48              monthly         12      12
    daily           7       30              quarterly       4       8
    business-daily  5       30              yearly          1       6
    other           1       8               (regular index without a calendar)

Held out: the last `windows * horizon` values of every series, where windows = 10% of the series'
length in horizons, at least 1 and at most 20 (GIFT-Eval's convention): the training script sees only
what comes before. Series too short for one window after a history of two seasons and two horizons
are dropped, as are near-duplicates (a series whose held-out values appear inside another series).

    /usr/bin/python3 training/series_data.py     # prints the inventory
"""
import csv
import gzip
import lzma
import math
import os
import struct
import zlib

import numpy as np
import rdata
from rdata.parser import RObjectType as T

R_LIB = "/usr/lib/R/library"
R_SITE = "/usr/lib/R/site-library"
PY_DIST = "/usr/lib/python3/dist-packages"

# frequency -> (season length, horizon)
FREQUENCIES = {
    "half-hourly": (48, 48),
    "hourly": (24, 48),
    "daily": (7, 30),
    "business-daily": (5, 30),
    "weekly": (1, 8),
    "monthly": (12, 12),
    "quarterly": (4, 8),
    "yearly": (1, 6),
    "other": (1, 8),
}
MAX_WINDOWS = 20
HELD_OUT_FRACTION = 0.1


class Series:
    def __init__(self, name, source, frequency, values):
        self.name = name
        self.source = source
        self.frequency = frequency
        self.season, self.horizon = FREQUENCIES[frequency]
        values = np.asarray(values, dtype=np.float64)
        finite = np.flatnonzero(np.isfinite(values))
        # leading and trailing gaps (columns of a data frame that start late) are not missing values
        self.values = values[finite[0]:finite[-1] + 1] if len(finite) else values[:0]
        n = len(self.values)
        self.windows = max(1, min(MAX_WINDOWS, int(HELD_OUT_FRACTION * n) // self.horizon))
        self.test_length = self.windows * self.horizon

    @property
    def train(self):
        """Everything before the held-out part: what training may see."""
        return self.values[:len(self.values) - self.test_length]

    def usable(self):
        if len(self.values) == 0:
            return False
        history = len(self.values) - self.test_length
        finite = np.isfinite(self.train)
        return (history >= 2 * self.season + 2 * self.horizon and finite.sum() >= history * 0.8
                and np.isfinite(self.values[-self.test_length:]).mean() >= 0.8
                and np.nanstd(self.train) > 0)

    def __repr__(self):
        return f"{self.name} ({self.frequency}, {len(self.values)})"


# ---- R serializations

def _deref(o):
    return o.referenced_object if o is not None and o.info.type == T.REF else o


def _attributes(o):
    out = {}
    a = o.attributes
    while a is not None and a.info.type == T.LIST:
        out[_deref(a.tag).value.value.decode()] = _deref(a.value[0])
        a = a.value[1]
    return out


def _value(o):
    o = _deref(o)
    if o.info.type in (T.REAL, T.INT, T.LGL):
        v = np.asarray(o.value, dtype=np.float64)
        if o.info.type != T.REAL:  # R's NA_integer_ is the smallest int
            v[np.asarray(o.value) == -2147483648] = np.nan
        return v
    if o.info.type == T.STR:
        return [None if x.value is None else x.value.decode() for x in o.value]
    if o.info.type == T.VEC:
        return [_value(x) for x in o.value]
    return None


def _lazy_load_db(base):
    """{name: RObject} of an R lazy-load database (base.rdx + base.rdb)."""
    index = rdata.conversion.convert(rdata.parser.parse_data(b"RDX3\n" + gzip.decompress(open(base + ".rdx", "rb").read())))
    rdb = open(base + ".rdb", "rb").read()
    out = {}
    for name, (offset, length) in index["variables"].items():
        chunk = rdb[offset:offset + length]
        if chunk[4:5] == b"Z":  # raw LZMA2, no xz container
            data = lzma.decompress(chunk[5:], format=lzma.FORMAT_RAW,
                                   filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 26}])
        elif chunk[4:5] == b"2":
            import bz2
            data = bz2.decompress(chunk[5:])
        else:
            data = zlib.decompress(chunk[4:])
        out[name] = rdata.parser.parse_data(b"RDX3\n" + data).object
    return out


def _rda(path):
    """{name: RObject} of an .rda file."""
    o = rdata.parser.parse_file(path).object
    out = {}
    while o is not None and o.info.type == T.LIST:
        out[_deref(o.tag).value.value.decode()] = o.value[0]
        o = o.value[1]
    return out


def _frequency_of_ts(tsp):
    start, _, freq = tsp
    if freq == 12:
        return "monthly"
    if freq == 4:
        return "quarterly"
    if freq == 52:
        return "weekly"
    if freq in (365, 365.25):
        return "daily"
    if freq in (248, 250, 252, 260):
        return "business-daily"
    if freq == 1 and (start >= 1000 or start < 0):
        return "yearly"
    return "other"


def _ts_series(objects, source, overrides=None):
    """Every univariate ts, and every column of an mts, in {name: RObject}."""
    out = []
    overrides = overrides or {}
    for name, o in objects.items():
        o = _deref(o)
        a = _attributes(o)
        if "tsp" not in a or o.info.type not in (T.REAL, T.INT):
            continue
        freq = overrides.get(name) or _frequency_of_ts(_value(a["tsp"]))
        values = _value(o)
        if "dim" in a:
            rows, cols = [int(x) for x in _value(a["dim"])]
            names = _value(a["dimnames"])[1] if "dimnames" in a else [str(i) for i in range(cols)]
            for j in range(cols):
                out.append(Series(f"{name}.{names[j]}", source, freq, values[j * rows:(j + 1) * rows]))
        else:
            out.append(Series(name, source, freq, values))
    return out


def r_series():
    out = []
    out += _ts_series(_lazy_load_db(f"{R_LIB}/datasets/data/Rdata"), "R datasets")
    # gold: daily morning prices on trading days; taylor: half-hourly electricity demand (msts, weekly period)
    out += _ts_series(_lazy_load_db(f"{R_SITE}/forecast/data/Rdata"), "R forecast",
                      {"gold": "business-daily", "taylor": "half-hourly"})
    chicago = _deref(_lazy_load_db(f"{R_SITE}/modeldata/data/Rdata")["Chicago"])
    columns = _value(_attributes(chicago)["names"])
    data = _value(chicago)
    # the first 21 columns: ridership at Clark/Lake, then 20 stations' ridership (lagged 14 days)
    for j in range(21):
        out.append(Series(f"Chicago.{columns[j]}", "R modeldata", "daily", data[j]))
    for lib in ("tseries", "AER"):
        d = f"{R_SITE}/{lib}/data"
        for f in sorted(os.listdir(d)):
            if f.endswith(".rda"):
                out += _ts_series(_rda(os.path.join(d, f)), f"R {lib}", {"MarkPound": "business-daily"})
    return out


# ---- CSV files

def _csv(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return math.nan


def vega_series():
    d = f"{PY_DIST}/vega_datasets/_data"
    out = [Series("seattle-temps", "vega", "hourly", [_num(r["temp"]) for r in _csv(f"{d}/seattle-temps.csv")]),
           Series("sf-temps", "vega", "hourly", [_num(r["temp"]) for r in _csv(f"{d}/sf-temps.csv")])]
    weather = _csv(f"{d}/seattle-weather.csv")
    for col in ("precipitation", "temp_max", "temp_min", "wind"):
        out.append(Series(f"seattle-weather.{col}", "vega", "daily", [_num(r[col]) for r in weather]))
    employment = _csv(f"{d}/us-employment.csv")
    for col in employment[0]:
        if col not in ("month", "nonfarm_change"):
            out.append(Series(f"us-employment.{col}", "vega", "monthly", [_num(r[col]) for r in employment]))
    stocks = _csv(f"{d}/stocks.csv")
    for sym in sorted({r["symbol"] for r in stocks}):
        out.append(Series(f"stocks.{sym}", "vega", "monthly", [_num(r["price"]) for r in stocks if r["symbol"] == sym]))
    return out


def statsmodels_series():
    d = f"{PY_DIST}/statsmodels/datasets"
    out = [Series("co2-weekly", "statsmodels", "weekly", [_num(r["co2"]) for r in _csv(f"{d}/co2/co2.csv")])]
    elnino = _csv(f"{d}/elnino/elnino.csv")
    months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    out.append(Series("elnino", "statsmodels", "monthly", [_num(r[m]) for r in elnino for m in months]))
    out.append(Series("elec_equip", "statsmodels", "monthly",
                      [_num(r["STS.M.I7.W.TOVT.NS0016.4.000"]) for r in _csv(f"{d}/elec_equip/elec_equip.csv")]))
    macro = _csv(f"{d}/macrodata/macrodata.csv")
    for col in ("realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "tbilrate", "unemp", "pop", "infl"):
        out.append(Series(f"macrodata.{col}", "statsmodels", "quarterly", [_num(r[col]) for r in macro]))
    danish = _csv(f"{d}/danish_data/data.csv")
    for col in ("lrm", "lry", "lpy", "ibo", "ide"):
        out.append(Series(f"danish.{col}", "statsmodels", "quarterly", [_num(r[col]) for r in danish]))
    return out


# ---- selection

def _leaks(a, b):
    """True when a's first held-out values appear, in order, inside b."""
    probe = np.round(a.values[len(a.values) - a.test_length:][:12], 6)
    if len(probe) < 6 or not np.all(np.isfinite(probe)):
        return False
    hay = np.round(b.values, 6)
    k = len(probe)
    if len(hay) < k:
        return False
    windows = np.lib.stride_tricks.sliding_window_view(hay, k)
    return bool(np.any(np.all(windows == probe, axis=1)))


def load_all(verbose=False):
    """The usable series, near-duplicates removed, in a fixed order."""
    candidates = r_series() + vega_series() + statsmodels_series()
    seen, series = set(), []
    for s in candidates:
        key = tuple(np.round(s.values[:40], 6).tolist()) + (len(s.values),)
        if key in seen or not s.usable():
            if verbose:
                print("skip", s)
            continue
        seen.add(key)
        series.append(s)
    kept = []
    for s in series:
        # drop s when its held-out part is inside a series already kept, or a kept one's is inside s
        clash = next((k for k in kept if _leaks(s, k) or _leaks(k, s)), None)
        if clash is not None:
            if verbose:
                print("skip", s, "overlaps", clash)
            continue
        kept.append(s)
    return kept


def main():
    series = load_all(verbose=True)
    by_freq = {}
    for s in series:
        by_freq.setdefault(s.frequency, []).append(s)
    total = sum(len(s.values) for s in series)
    print(f"{len(series)} series, {total} values")
    for f, ss in sorted(by_freq.items()):
        print(f"  {f:15s} {len(ss):4d} series {sum(len(s.values) for s in ss):8d} values, "
              f"{sum(s.windows for s in ss):5d} held-out windows of {FREQUENCIES[f][1]}")


if __name__ == "__main__":
    main()
