"""Forecast backtest: cloudoptima's model (through `cloudoptima forecast`, the real binary) beside
statsforecast's AutoETS, MSTL and seasonal naive on the same generated daily cost series.

Each series has a trend, a multiplicative weekly season, noise, level shifts and one-day spikes (some
shortly before an origin); a fifth of them also have a yearly season. Every model forecasts 90 days
from three rolling origins (after 580, 610 and 640 days). Printed: MASE (scaled by the in-sample
seasonal-naive error), sMAPE, 80% and 95% interval coverage, and series per second.
"""
import argparse
import csv
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd

HORIZON = 90
ORIGINS = (580, 610, 640)
LENGTH = 640 + HORIZON


def generate(n, seed):
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01")
    days = np.arange(LENGTH)
    out = {}
    for s in range(n):
        level = rng.uniform(50, 5000)
        trend = rng.uniform(-0.0004, 0.0012)
        weekly = 1 + rng.uniform(0, 0.4) * np.where((days % 7) >= 5, -1, 0.3)
        yearly = 1 + (0.15 * np.sin(2 * np.pi * days / 365.25) if s % 5 == 0 else 0)
        y = level * np.exp(trend * days) * weekly * yearly
        for _ in range(rng.integers(0, 3)):
            at = rng.integers(60, LENGTH - 30)
            y[at:] *= rng.uniform(0.7, 1.5)
        for _ in range(rng.integers(1, 4)):
            at = rng.integers(30, LENGTH)
            y[at] *= rng.uniform(2, 6)
        # A spike a few days before the middle origin, which a forecast must not repeat weekly.
        if s % 3 == 0:
            y[ORIGINS[1] - rng.integers(1, 6)] *= rng.uniform(3, 6)
        y *= 1 + rng.normal(0, rng.uniform(0.02, 0.08), LENGTH)
        out[f"s{s:04d}"] = (start + days, np.maximum(y, 0))
    return out


def score(actual, point, lo80, hi80, lo95, hi95, train):
    scale = np.mean(np.abs(train[7:] - train[:-7]))
    mase = np.mean(np.abs(actual - point)) / scale
    smape = np.mean(2 * np.abs(actual - point) / (np.abs(actual) + np.abs(point) + 1e-9))
    return mase, smape, np.mean((actual >= lo80) & (actual <= hi80)), np.mean((actual >= lo95) & (actual <= hi95))


def run_cloudoptima(binary, series, origin, work):
    path = os.path.join(work, f"series-{origin}.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["series", "date", "value"])
        for sid, (dates, y) in series.items():
            for d, v in zip(dates[:origin], y[:origin]):
                w.writerow([sid, str(d), f"{v:.6f}"])
    out = os.path.join(work, f"forecast-{origin}.csv")
    t = time.monotonic()
    subprocess.run([binary, "forecast", "--input", path, "--horizon", str(HORIZON), "--output", out], check=True)
    seconds = time.monotonic() - t
    df = pd.read_csv(out)
    return {sid: g for sid, g in df.groupby("series")}, seconds


def run_statsforecast(series, origin):
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS, SeasonalNaive

    rows = []
    for sid, (dates, y) in series.items():
        rows.append(pd.DataFrame({"unique_id": sid, "ds": pd.to_datetime(dates[:origin]), "y": y[:origin]}))
    df = pd.concat(rows)
    results, seconds = {}, {}
    for name, model in [
        ("statsforecast AutoETS", AutoETS(season_length=7)),
        ("statsforecast MSTL", MSTL(season_length=[7], trend_forecaster=AutoETS(model="ZZN"))),
        ("statsforecast SeasonalNaive", SeasonalNaive(season_length=7)),
    ]:
        # numba compiles each model on first use: warm it up on one series, untimed.
        first = df[df["unique_id"] == df["unique_id"].iloc[0]]
        StatsForecast(models=[model], freq="D", n_jobs=1).forecast(df=first, h=HORIZON, level=[80, 95])
        t = time.monotonic()
        fc = StatsForecast(models=[model], freq="D", n_jobs=1).forecast(df=df, h=HORIZON, level=[80, 95])
        seconds[name] = time.monotonic() - t
        col = [c for c in fc.columns if c not in ("unique_id", "ds") and "-lo-" not in c and "-hi-" not in c][0]
        results[name] = {
            sid: g.rename(columns={col: "point", f"{col}-lo-80": "lower_80", f"{col}-hi-80": "upper_80",
                                   f"{col}-lo-95": "lower_95", f"{col}-hi-95": "upper_95"})
            for sid, g in fc.reset_index().groupby("unique_id")
        }
    return results, seconds


def main():
    args = argparse.ArgumentParser()
    args.add_argument("--binary", required=True)
    args.add_argument("--dir", default="target/bench")
    args.add_argument("sizes", nargs="*", type=int, default=[40, 200])
    opts = args.parse_args()
    opts.binary = os.path.abspath(opts.binary)
    os.makedirs(opts.dir, exist_ok=True)
    print(f"{'series':>6}  {'model':<28} {'MASE':>6} {'sMAPE':>6} {'cov80':>6} {'cov95':>6} {'series/s':>9}")
    for n in opts.sizes:
        series = generate(n, seed=n)
        scores, seconds = {}, {}
        for origin in ORIGINS:
            ours, secs = run_cloudoptima(opts.binary, series, origin, opts.dir)
            peers, peer_secs = run_statsforecast(series, origin)
            everyone = {"cloudoptima": ours, **peers}
            seconds["cloudoptima"] = seconds.get("cloudoptima", 0) + secs
            for k, v in peer_secs.items():
                seconds[k] = seconds.get(k, 0) + v
            for name, result in everyone.items():
                for sid, (dates, y) in series.items():
                    g = result[sid]
                    actual = y[origin:origin + HORIZON]
                    scores.setdefault(name, []).append(score(
                        actual, g["point"].to_numpy(), g["lower_80"].to_numpy(), g["upper_80"].to_numpy(),
                        g["lower_95"].to_numpy(), g["upper_95"].to_numpy(), y[:origin]))
        for name, s in scores.items():
            m = np.mean(np.array(s), axis=0)
            rate = n * len(ORIGINS) / seconds[name]
            print(f"{n:>6}  {name:<28} {m[0]:>6.3f} {m[1]:>6.3f} {m[2]:>6.2f} {m[3]:>6.2f} {rate:>9.1f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
