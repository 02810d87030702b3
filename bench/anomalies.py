"""Anomaly benchmark: cloudoptima's detector beside (a) seasonal decomposition plus a Tukey fence on the
residuals (k = 1.5, as FinOps hubs' KQL `series_decompose_anomalies` does) and (b) a plain 25%
day-over-day rule, on generated tenants with injected anomalies whose causes are known.

Each tenant: subscriptions of resource groups of resources, each resource with a service, a meter
category and a region, daily cost with trend, weekly season and noise. Into the last 60 days go
anomalies of several shapes (one-day spike, one-day drop, level shift up or down) and sizes (25%,
50%, 100% of the target scope's daily cost), each at a target scope (resource group, service or
subscription) and caused by one resource of it. cloudoptima runs once over the FOCUS files (its
judging is causal, so one run finds what daily runs would have); the peers judge each day from the
series up to that day. Printed per method: recall (planted anomalies found in their target scope
on the day they start), precision (anomalies reported that a planted one explains), days to
detect, false anomalies per 100 scopes per 30 days, and the share whose named cause is right.
"""
import argparse
import csv
import datetime as dt
import json
import os
import shutil
import subprocess

import numpy as np

DAYS = 150
EVAL_DAYS = 60
SHAPES = ("spike", "drop", "shift_up", "shift_down")
SIZES = (0.25, 0.5, 1.0)
DIMENSIONS = ("resource_group", "service", "subscription")
# Each dimension's field of a generated resource.
KEYS = {"resource_group": "sub_group", "service": "service", "subscription": "sub"}


def tenant(seed, subs=4, groups=6, resources=8):
    """Resources and their daily cost; anomalies injected; returns (rows per resource, truth)."""
    rng = np.random.default_rng(seed)
    services = [("Virtual Machines", "Compute"), ("Storage", "Storage"), ("SQL Database", "Databases"),
                ("App Service", "Compute"), ("Log Analytics", "Management"), ("Load Balancer", "Networking"),
                ("Key Vault", "Security"), ("Cosmos DB", "Databases")]
    regions = ["westeurope", "eastus", "northeurope"]
    res = []
    for s in range(subs):
        for g in range(groups):
            for r in range(resources):
                service, category = services[rng.integers(len(services))]
                level = rng.lognormal(2.5, 1.0)
                days = np.arange(DAYS)
                weekly = 1 + rng.uniform(0, 0.3) * np.where(days % 7 >= 5, -1, 0.4)
                trend = np.exp(rng.uniform(-0.001, 0.002) * days)
                noise = 1 + rng.normal(0, rng.uniform(0.01, 0.06), DAYS)
                res.append({
                    "sub": f"sub-{s}", "group": f"rg-{s}-{g}", "name": f"res-{s}-{g}-{r}",
                    # Resource groups are named within their subscription, as cloudoptima names them.
                    "sub_group": f"sub-{s}/rg-{s}-{g}",
                    "service": service, "category": category, "region": regions[rng.integers(3)],
                    "cost": level * weekly * trend * noise,
                })
    truth = []
    used = set()
    combos = [(d, sh, sz) for d in DIMENSIONS for sh in SHAPES for sz in SIZES]
    rng.shuffle(combos)
    for dim, shape, size in combos:
        r = res[rng.integers(len(res))]
        key = KEYS[dim]
        value = r[key]
        if (dim, value) in used:
            continue
        used.add((dim, value))
        members = [x for x in res if x[key] == value]
        day = int(rng.integers(DAYS - EVAL_DAYS + 1, DAYS - 7))
        scope_cost = sum(x["cost"][day - 14:day].mean() for x in members)
        delta = size * scope_cost
        if shape in ("drop", "shift_down"):
            # A drop: the cause loses `delta` of cost; pick a cause big enough to lose it.
            big = [x for x in members if x["cost"][day - 14:day].mean() >= delta]
            if not big:
                continue
            r = big[rng.integers(len(big))]
        last = day + 1 if shape in ("spike", "drop") else DAYS
        sign = -1 if shape in ("drop", "shift_down") else 1
        base = r["cost"][day - 14:day].mean()
        r["cost"][day:last] = np.maximum(r["cost"][day:last] + sign * delta * r["cost"][day:last] / base, 0)
        truth.append({"dimension": dim, "value": value, "shape": shape, "size": size, "day": day,
                      "resource": r, "spike": sign > 0})
    return res, truth


def resource_id(r):
    return (f"/subscriptions/{r['sub']}/resourcegroups/{r['group']}/providers/"
            f"microsoft.compute/virtualmachines/{r['name']}")


def write_focus(res, start, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["BilledCost", "EffectiveCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd",
                    "ProviderName", "SubAccountId", "SubAccountName", "ResourceId", "ResourceName",
                    "x_ResourceGroupName", "ServiceName", "x_SkuMeterCategory", "SkuMeter", "RegionId",
                    "ChargeCategory"])
        for r in res:
            for d in range(DAYS):
                day = start + dt.timedelta(days=d)
                c = f"{r['cost'][d]:.6f}"
                w.writerow([c, c, "USD", f"{day}T00:00:00Z", f"{day + dt.timedelta(days=1)}T00:00:00Z",
                            "Microsoft", f"/subscriptions/{r['sub']}", r["sub"], resource_id(r), r["name"],
                            r["group"], r["service"], r["category"], "Meter " + r["service"], r["region"],
                            "Usage"])


def scope_series(res):
    out = {}
    for r in res:
        for dim, key in KEYS.items():
            out.setdefault((dim, r[key]), np.zeros(DAYS))
            out[(dim, r[key])] += r["cost"]
    return out


def events(flags):
    """Runs of flagged days: [(first, last, spike)]."""
    out = []
    for d, spike in flags:
        if out and out[-1][2] == spike and d == out[-1][1] + 1:
            out[-1] = (out[-1][0], d, spike)
        else:
            out.append((d, d, spike))
    return out


def tukey(y):
    """STL on the series up to each day; the day's residual outside Q1 - 1.5 IQR .. Q3 + 1.5 IQR."""
    from statsmodels.tsa.seasonal import STL
    flags = []
    for d in range(DAYS - EVAL_DAYS, DAYS):
        resid = STL(y[:d + 1], period=7).fit().resid
        q1, q3 = np.percentile(resid[:-1], [25, 75])
        fence = 1.5 * (q3 - q1)
        if resid[-1] > q3 + fence or resid[-1] < q1 - fence:
            flags.append((d, resid[-1] > 0))
    return events(flags)


def day_over_day(y):
    flags = []
    for d in range(DAYS - EVAL_DAYS, DAYS):
        if y[d - 1] > 0 and abs(y[d] / y[d - 1] - 1) >= 0.25:
            flags.append((d, y[d] > y[d - 1]))
    return events(flags)


def cloudoptima(binary, res, start, work):
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(os.path.join(work, "input"))
    os.makedirs(os.path.join(work, "pipelines"))
    write_focus(res, start, os.path.join(work, "input", "costs.csv"))
    with open(os.path.join(work, "pipelines", "bench.toml"), "w") as f:
        f.write(f"""name = "bench"
strict = false
[[sources]]
kind = "focus_files"
path = "input"
[rules]
enabled = false
[forecast]
enabled = false
[report]
enabled = false
[anomalies]
dimensions = ["subscription", "resource_group", "service"]
lookback_days = {EVAL_DAYS}
""")
    as_of = start + dt.timedelta(days=DAYS)
    subprocess.run([binary, "--pipelines", "pipelines", "run", "--as-of", str(as_of)], cwd=work, check=True,
                   stdout=subprocess.DEVNULL)
    out = subprocess.run([binary, "sql", "--format", "json",
                          "SELECT dimension, value, direction, CAST(first_day AS VARCHAR) AS first_day, "
                          "CAST(last_day AS VARCHAR) AS last_day, cause_resource_id FROM anomalies"],
                         cwd=work, check=True, capture_output=True, text=True).stdout
    found = {}
    for row in json.loads(out):
        if row["dimension"] == "total":
            continue
        first = (dt.date.fromisoformat(row["first_day"]) - start).days
        last = (dt.date.fromisoformat(row["last_day"]) - start).days
        found.setdefault((row["dimension"], row["value"]), []).append(
            (first, last, row["direction"] == "spike", row["cause_resource_id"]))
    return found


def score(found, truth, scopes):
    """found: {(dim, value): [(first, last, spike, cause)]}."""
    hits, delays, causes_right = 0, [], 0
    explained = set()
    for t in truth:
        for i, e in enumerate(found.get((t["dimension"], t["value"]), [])):
            if e[2] == t["spike"] and e[0] <= t["day"] + 3 and e[1] >= t["day"]:
                hits += 1
                delays.append(max(0, e[0] - t["day"]))
                causes_right += e[3] == resource_id(t["resource"])
                break
    # An anomaly is explained when a planted one's cause is in its scope, in its direction, on its days.
    reported = 0
    for (dim, value), evs in found.items():
        key = KEYS[dim]
        for e in evs:
            reported += 1
            for t in truth:
                last = t["day"] if t["shape"] in ("spike", "drop") else DAYS
                if t["resource"][key] == value and e[2] == t["spike"] and e[0] <= last and e[1] >= t["day"]:
                    explained.add((dim, value, e[0]))
                    break
    false = reported - len(explained)
    return {
        "recall": hits / max(len(truth), 1),
        "precision": len(explained) / max(reported, 1),
        "days": np.mean(delays) if delays else float("nan"),
        "false_per_100_30": false / (len(scopes) / 100) / (EVAL_DAYS / 30),
        "cause": causes_right / max(hits, 1),
    }


def main():
    args = argparse.ArgumentParser()
    args.add_argument("--binary", required=True)
    args.add_argument("--dir", default="target/bench")
    args.add_argument("--tenants", type=int, default=5)
    opts = args.parse_args()
    opts.binary = os.path.abspath(opts.binary)
    start = dt.date(2026, 1, 1)
    totals = {}
    for seed in range(opts.tenants):
        res, truth = tenant(seed)
        scopes = scope_series(res)
        ours = cloudoptima(opts.binary, res, start, os.path.join(opts.dir, f"anomalies-{seed}"))
        tk = {k: [(a, b, s, None) for a, b, s in tukey(y)] for k, y in scopes.items()}
        dod = {k: [(a, b, s, None) for a, b, s in day_over_day(y)] for k, y in scopes.items()}
        for name, found in (("cloudoptima", ours), ("STL + Tukey fence (k=1.5)", tk), ("25% day over day", dod)):
            s = score(found, truth, scopes)
            for k, v in s.items():
                totals.setdefault(name, {}).setdefault(k, []).append(v)
        print(f"tenant {seed}: {len(scopes)} scopes, {len(truth)} planted anomalies", flush=True)
    print(f"\n{'method':<28} {'precision':>9} {'recall':>7} {'days to detect':>14} {'false/100 scopes/30d':>21} {'cause right':>11}")
    for name, s in totals.items():
        cause = f"{np.mean(s['cause']):.2f}" if name == "cloudoptima" else "-"
        print(f"{name:<28} {np.mean(s['precision']):>9.2f} {np.mean(s['recall']):>7.2f} "
              f"{np.nanmean(s['days']):>14.1f} {np.mean(s['false_per_100_30']):>21.1f} {cause:>11}")


if __name__ == "__main__":
    main()
