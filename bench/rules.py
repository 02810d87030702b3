"""Driver for bench/rules.sh: build a large lake, run every rule with cloudoptima and DuckDB.

The lake starts as a demo run (so every table exists with cloudoptima's own schema), then its
`costs`, `resources` and `metrics` tables are replaced by generated ones of the requested size,
written as Delta tables by the `deltalake` package (an independent writer). cloudoptima runs every
rule over it through `cloudoptima run --no-extract`; DuckDB runs the
same rule SQL, rendered with the same params, over the same Parquet files, with the shared views
computed once as tables (as cloudoptima's run does). Per-rule times come from
each tool's own report; totals and peak RSS from the process.
"""
import argparse
import glob
import json
import os
import re
import shutil
import sys
import tomllib
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from common import LOAD_ONLY, measured

AS_OF = date(2026, 6, 15)
COST_DAYS = 62
METRIC_DAYS = 30
SUBSCRIPTIONS = 20
GROUPS_PER_SUBSCRIPTION = 25
SIZES = ["Standard_D2s_v3", "Standard_D4s_v3", "Standard_D8s_v3", "Standard_E4s_v3", "Standard_F8s_v2",
         "Standard_D4s_v5", "Standard_D16s_v4"]
MEMORY_GIB = {"Standard_D2s_v3": 8, "Standard_D4s_v3": 16, "Standard_D8s_v3": 32, "Standard_E4s_v3": 32,
              "Standard_F8s_v2": 16, "Standard_D4s_v5": 16, "Standard_D16s_v4": 64}
REGIONS = ["westeurope", "northeurope", "eastus", "eastus2"]

DEMO_PIPELINE = """name = "seed"
""" + LOAD_ONLY

RULES_PIPELINE = """name = "rules"
[rules]
preview = true
[forecast]
enabled = false
[report]
enabled = false
"""

DUCKDB_JOB = r"""
import duckdb, json, sys, time
job = json.load(open(sys.argv[1]))
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
for ddl in job["empty"]:
    con.execute(ddl)
for name, files in job["tables"].items():
    listed = ", ".join("'" + f + "'" for f in files)
    con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{listed}], hive_partitioning = true, union_by_name = true)")
# The shared views computed once, as cloudoptima's run does.
start = time.monotonic()
for name, sql in job["views"]:
    con.execute(f"CREATE TABLE {name} AS {sql}")
out = {"_views": {"seconds": time.monotonic() - start}}
for rule, sql in job["rules"]:
    start = time.monotonic()
    try:
        rows = len(con.execute(sql).fetchall())
        out[rule] = {"seconds": time.monotonic() - start, "findings": rows}
    except duckdb.Error as e:
        out[rule] = {"error": str(e).splitlines()[0]}
print(json.dumps(out))
"""


def log(msg):
    print(msg, flush=True)


# --- the generated estate ---------------------------------------------------------------------

def vm_ids(n):
    return [f"/subscriptions/{sub_of(i)}/resourcegroups/rg-{i % GROUPS_PER_SUBSCRIPTION:02d}"
            f"/providers/microsoft.compute/virtualmachines/vm-{i:05d}" for i in range(n)]


def sub_of(i):
    return f"00000000-0000-0000-0000-{i % SUBSCRIPTIONS:012d}"


def disk_id(i, kind):
    return (f"/subscriptions/{sub_of(i)}/resourcegroups/rg-{i % GROUPS_PER_SUBSCRIPTION:02d}"
            f"/providers/microsoft.compute/disks/{kind}-{i:05d}")


def estate(vms):
    """Resource rows: VMs (a few idle, underused, stopped or deallocated), their OS disks, and
    some unattached disks. Returns (columns, per-VM profile)."""
    rng = np.random.default_rng(7)
    profile = rng.choice(["busy", "underused", "idle", "stopped", "deallocated"], size=vms,
                         p=[0.72, 0.15, 0.07, 0.03, 0.03])
    sizes = [SIZES[i % len(SIZES)] for i in range(vms)]
    rows = []
    for i, vid in enumerate(vm_ids(vms)):
        power = {"stopped": "stopped", "deallocated": "deallocated"}.get(profile[i], "running")
        props = {"hardwareProfile": {"vmSize": sizes[i]},
                 "extended": {"instanceView": {"powerState": {"code": f"PowerState/{power}"}}},
                 "storageProfile": {"osDisk": {"osType": "Linux", "managedDisk": {"id": disk_id(i, "osdisk")}},
                                    "dataDisks": []},
                 "networkProfile": {"networkInterfaces": [{"id": vid.replace("virtualmachines/vm", "networkinterfaces/nic")}]}}
        rows.append(dict(resource_id=vid, resource_name=f"vm-{i:05d}",
                         resource_type="microsoft.compute/virtualmachines", power_state=power,
                         vm_size=sizes[i], properties=json.dumps(props, separators=(",", ":")), i=i))
        rows.append(dict(resource_id=disk_id(i, "osdisk"), resource_name=f"osdisk-{i:05d}",
                         resource_type="microsoft.compute/disks", sku_name="Premium_LRS", sku_tier="Premium",
                         managed_by=vid, attached_to=vid, disk_state="Attached", disk_size_gb=128.0,
                         properties='{"diskState":"Attached","diskSizeGB":128}', i=i))
    for i in range(vms // 10):
        rows.append(dict(resource_id=disk_id(i, "spare"), resource_name=f"spare-{i:05d}",
                         resource_type="microsoft.compute/disks", sku_name="StandardSSD_LRS",
                         sku_tier="Standard", disk_state="Unattached", disk_size_gb=256.0,
                         properties='{"diskState":"Unattached","diskSizeGB":256}', i=i))
    for r in rows:
        i = r.pop("i")
        r.update(subscription_id=sub_of(i), resource_group=f"rg-{i % GROUPS_PER_SUBSCRIPTION:02d}",
                 region=REGIONS[i % len(REGIONS)],
                 tags='{"costcenter":"cc-%d"}' % (i % 40) if i % 5 else '{}',
                 provisioning_state="Succeeded",
                 created_time=datetime(2025, 1, 1, tzinfo=timezone.utc), snapshot_date=AS_OF - timedelta(days=1))
    return rows, profile, sizes


def resources_table(schema, rows):
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    return pa.Table.from_pydict(cols, schema=schema)


def metric_batches(schema, vms, profile, sizes):
    """CPU and available memory, hourly, METRIC_DAYS days before AS_OF, one batch per day."""
    rng = np.random.default_rng(11)
    ids = pa.array(vm_ids(vms))
    level = np.select([profile == "idle", profile == "underused"], [1.5, 9.0], 45.0)
    level = np.where(np.isin(profile, ["stopped", "deallocated"]), 0.0, level)
    memory = np.array([MEMORY_GIB[s] * 2**30 for s in sizes], dtype=np.float64)
    used = np.where(profile == "busy", 0.7, 0.25)
    hours = 24
    for d in range(METRIC_DAYS, 0, -1):
        day = AS_OF - timedelta(days=d)
        base = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        vm = np.repeat(np.arange(vms), hours)
        hour = np.tile(np.arange(hours), vms)
        ts = pa.array([base + timedelta(hours=h) for h in range(hours)], type=pa.timestamp("us", "UTC")).take(hour)
        n = vms * hours
        cpu_avg = np.clip(level[vm] * (0.7 + 0.6 * rng.random(n)), 0, 100)
        cpu_max = np.clip(cpu_avg * 1.6, 0, 100)
        mem = memory[vm] * (1 - used[vm] * (0.9 + 0.2 * rng.random(n)))
        for name, unit, avg, mx in [("Percentage CPU", "Percent", cpu_avg, cpu_max),
                                    ("Available Memory Bytes", "Bytes", mem, mem)]:
            cols = {"resource_id": ids.take(pa.array(vm)), "metric_name": pa.array([name] * n),
                    "unit": pa.array([unit] * n), "timestamp": ts, "average": avg, "minimum": avg * 0.5,
                    "maximum": mx, "total": None, "count": np.full(n, 60.0), "date": pa.array([day] * n)}
            yield batch(schema, cols, n)


def batch(schema, cols, n):
    arrays = []
    for f in schema:
        v = cols.get(f.name)
        if v is None:
            arrays.append(pa.nulls(n, type=f.type))
        elif isinstance(v, (pa.Array, pa.ChunkedArray)):
            arrays.append(v.cast(f.type))
        else:
            arrays.append(pa.array(v, type=f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def cost_batches(schema, template, rows, vms, profile, sizes):
    """`rows` cost rows over COST_DAYS days before AS_OF, one batch per day: each VM's compute
    meter (pay-as-you-go, a fifth under a reservation), its OS disk, spare disks, and the rest
    spread over the VMs as bandwidth and other meters."""
    rng = np.random.default_rng(13)
    per_day = rows // COST_DAYS
    vids = vm_ids(vms)
    disks = [disk_id(i, "osdisk") for i in range(vms)] + [disk_id(i, "spare") for i in range(vms // 10)]
    resource_ids = pa.array(vids + disks)
    nres = len(vids) + len(disks)
    owner = np.concatenate([np.arange(vms), np.arange(vms), np.arange(vms // 10)])
    running = ~np.isin(profile, ["stopped", "deallocated"])
    reserved = (np.arange(vms) % 5 == 0)
    hourly = np.array([0.1 * MEMORY_GIB[s] / 8 for s in sizes])
    subs = pa.array([f"/subscriptions/{sub_of(i)}" for i in range(SUBSCRIPTIONS)])
    rgs = pa.array([f"rg-{g:02d}" for g in range(GROUPS_PER_SUBSCRIPTION)])
    tags = pa.array(['{}'] + ['{"costcenter":"cc-%d"}' % c for c in range(40)])
    for d in range(COST_DAYS, 0, -1):
        day = AS_OF - timedelta(days=d)
        start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        n = per_day + (rows - per_day * COST_DAYS if d == 1 else 0)
        # Rows 0..nres-1 of a day: one per VM and disk; the rest: extra meters on random VMs.
        res = np.concatenate([np.arange(min(n, nres)), rng.integers(0, vms, size=max(0, n - nres))])
        own = owner[res]
        is_compute = res < vms
        qty = np.where(is_compute, np.where(running[np.minimum(res, vms - 1)], 24.0, 0.0), rng.random(n) * 5)
        cost = np.where(is_compute, qty * hourly[own], np.where(res < nres, 0.6, 0.01 + rng.random(n) * 0.2))
        committed = is_compute & reserved[own]
        cols = dict(template)
        cols.update({
            "ResourceId": resource_ids.take(pa.array(res)),
            "ResourceName": None,
            "SubAccountId": subs.take(pa.array(own % SUBSCRIPTIONS)),
            "x_ResourceGroupName": rgs.take(pa.array(own % GROUPS_PER_SUBSCRIPTION)),
            "Tags": tags.take(pa.array(np.where(own % 5 == 0, 0, 1 + own % 40))),
            "ChargePeriodStart": pa.array([start] * n, type=pa.timestamp("us", "UTC")),
            "ChargePeriodEnd": pa.array([start + timedelta(days=1)] * n, type=pa.timestamp("us", "UTC")),
            "BillingPeriodStart": pa.array([datetime(day.year, day.month, 1, tzinfo=timezone.utc)] * n,
                                           type=pa.timestamp("us", "UTC")),
            "BillingPeriod": pa.array([day.strftime("%Y-%m")] * n),
            "ChargeCategory": pa.array(["Usage"] * n),
            "PricingCategory": pa.array(np.where(committed, "Committed", "Standard")),
            "CommitmentDiscountId": pa.array(np.where(committed, "/providers/microsoft.capacity/reservationorders/r1", None)),
            "ConsumedQuantity": qty, "EffectiveCost": cost, "BilledCost": np.where(committed, 0.0, cost),
            "ListCost": cost * 1.2, "ContractedCost": cost,
        })
        yield batch(schema, {k: (pa.array([v] * n) if not isinstance(v, (pa.Array, np.ndarray)) and v is not None else v)
                             for k, v in cols.items()}, n)


# --- the two tools ----------------------------------------------------------------------------

def rule_sql(path, as_of):
    """A rule file's SQL with its default params and the run date filled in, as cloudoptima does."""
    text = open(path).read()
    header = re.search(r"/\* ---\n(.*?)\n--- \*/", text, re.S)
    meta = tomllib.loads(header.group(1))
    sql = text[header.end():].strip().rstrip(";")
    sql = sql.replace("{{as_of}}", f"DATE '{as_of}'")
    for k, v in meta.get("params", {}).items():
        lit = f"'{v}'" if isinstance(v, str) else repr(v).lower() if isinstance(v, bool) else repr(v)
        sql = sql.replace("{{" + k + "}}", lit)
    return meta["id"], sql


def json_path(args):
    keys = re.findall(r"'([^']*)'", args)
    return "'$." + ".".join(keys) + "'"


# DataFusion's JSON functions (column, then keys) and the DuckDB call each becomes.
JSON_CALLS = {
    "json_get_str": "json_extract_string({col}, {path})",
    "json_get_int": "CAST(json_extract({col}, {path}) AS BIGINT)",
    "json_length": "json_array_length({col}, {path})",
    "json_contains": "json_exists({col}, {path})",
}


def to_duckdb(sql):
    """DataFusion's dialect → DuckDB's: the few functions that differ."""
    sql = re.sub(r"approx_percentile_cont\(", "approx_quantile(", sql)
    sql = re.sub(r"regexp_like\(", "regexp_matches(", sql)
    for name, call in JSON_CALLS.items():
        sql = re.sub(name + r"\(([\w.]+),\s*((?:'[^']*'\s*,?\s*)+)\)",
                     lambda m: call.format(col=m.group(1), path=json_path(m.group(2))), sql)
    return sql


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--cost-rows", type=int, default=10_000_000)
    p.add_argument("--vms", type=int, default=10_000)
    args = p.parse_args()
    binary = os.path.abspath(args.binary)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = os.path.abspath(args.dir)
    shutil.rmtree(work, ignore_errors=True)
    lake = os.path.join(work, "lake")
    os.makedirs(os.path.join(work, "seed"))
    with open(os.path.join(work, "seed", "seed.toml"), "w") as f:
        f.write(DEMO_PIPELINE)
    log(f"== seeding the lake with a demo run ({work})")
    measured([binary, "--lake", lake, "--pipelines", os.path.join(work, "seed"), "run",
              "--as-of", str(AS_OF)], cwd=work)

    tables = {t: DeltaTable(os.path.join(lake, t)) for t in ("costs", "resources", "metrics")}
    schemas = {t: pa.schema(dt.schema().to_arrow()) for t, dt in tables.items()}
    parts = {t: dt.metadata().partition_columns for t, dt in tables.items()}
    sample = tables["costs"].to_pyarrow_dataset().head(1).to_pylist()[0]
    template = {k: v for k, v in sample.items() if v is not None and not isinstance(v, (int, float, datetime))}
    for t in tables:
        shutil.rmtree(os.path.join(lake, t))

    log(f"== generating {args.vms:,} VMs, {args.cost_rows:,} cost rows, {METRIC_DAYS} days of hourly metrics")
    rows, profile, sizes = estate(args.vms)
    write_deltalake(os.path.join(lake, "resources"), resources_table(schemas["resources"], rows),
                    partition_by=parts["resources"])
    write_deltalake(os.path.join(lake, "metrics"),
                    pa.RecordBatchReader.from_batches(schemas["metrics"], metric_batches(schemas["metrics"], args.vms, profile, sizes)),
                    partition_by=parts["metrics"])
    write_deltalake(os.path.join(lake, "costs"),
                    pa.RecordBatchReader.from_batches(schemas["costs"], cost_batches(schemas["costs"], template, args.cost_rows, args.vms, profile, sizes)),
                    partition_by=parts["costs"])
    counts = {t: DeltaTable(os.path.join(lake, t)).to_pyarrow_dataset().count_rows() for t in tables}
    size = sum(os.path.getsize(f) for t in tables for f in glob.glob(os.path.join(lake, t, "**", "*.parquet"), recursive=True))
    log("   " + ", ".join(f"{t} {n:,} rows" for t, n in counts.items()) + f"; {size / 2**30:.2f} GiB of Parquet")

    rules_dir = os.path.join(root, "sql", "rules")
    rules = [rule_sql(f, AS_OF) for f in sorted(glob.glob(os.path.join(rules_dir, "*.sql")))]
    os.makedirs(os.path.join(work, "pipelines"))
    with open(os.path.join(work, "pipelines", "rules.toml"), "w") as f:
        f.write(RULES_PIPELINE)

    log(f"== cloudoptima: {len(rules)} rules")
    ours_s, ours_mb, out = measured([binary, "--lake", lake, "--pipelines", os.path.join(work, "pipelines"),
                                     "--rules", rules_dir, "run", "--no-extract", "--as-of", str(AS_OF)], cwd=work)
    ours = {m.group(1): (float(m.group(3)), int(m.group(2)))
            for m in re.finditer(r"^\s+(\w+)\s+(\d+)\s+\S+ / month\s+([\d.]+)s$", out, re.M)}
    stage = re.search(r"\]\s+rules\s+([\d.]+)s", out)
    if len(ours) != len(rules) or stage is None:
        sys.exit(f"cloudoptima did not run every rule:\n{out}")

    log("== DuckDB: the same SQL over the same Parquet files")
    live = {t: DeltaTable(os.path.join(lake, t)).file_uris() for t in os.listdir(lake)
            if os.path.isdir(os.path.join(lake, t, "_delta_log"))}
    views = [(os.path.splitext(os.path.basename(f))[0], open(f).read().replace("{{as_of}}", f"DATE '{AS_OF}'"))
             for f in sorted(glob.glob(os.path.join(rules_dir, "views", "*.sql")))]
    views = [(n, "\n".join(line for line in s.splitlines() if not line.startswith("--")).strip().rstrip(";"))
             for n, s in views]
    # Tables the seed run left empty (no price list in the demo) exist in cloudoptima's session
    # with no rows; DuckDB gets the columns the rules read.
    empty = [] if "prices" in live else [
        "CREATE TABLE prices (x_ArmSkuName VARCHAR, x_SkuRegion VARCHAR, ListUnitPrice DOUBLE, "
        "x_SkuPriceType VARCHAR, SkuMeter VARCHAR, x_SkuDescription VARCHAR)"]
    job = {"empty": empty, "tables": live, "views": [(n, to_duckdb(s)) for n, s in views],
           "rules": [(rid, to_duckdb(sql)) for rid, sql in rules]}
    job_file = os.path.join(work, "duckdb-job.json")
    json.dump(job, open(job_file, "w"))
    duck_s, duck_mb, out = measured([sys.executable, "-c", DUCKDB_JOB, job_file])
    duck = json.loads(out)
    duck_views = duck.pop("_views")["seconds"]

    print()
    print("| rule | cloudoptima s | findings | DuckDB s | findings | speed ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    both_ours = both_duck = 0.0
    differ = []
    for rid, _ in rules:
        o_s, o_n = ours[rid]
        d = duck.get(rid, {})
        if "seconds" in d:
            both_ours += o_s
            both_duck += d["seconds"]
            if d["findings"] != o_n:
                differ.append(rid)
            print(f"| {rid} | {o_s:.2f} | {o_n} | {d['seconds']:.2f} | {d['findings']} | {d['seconds'] / max(o_s, 1e-3):.2f}x |")
        else:
            print(f"| {rid} | {o_s:.2f} | {o_n} | — | — | not run: {d.get('error', '?')[:60]} |")
    ran = sum(1 for d in duck.values() if "seconds" in d)
    print()
    print("| | cloudoptima | DuckDB | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| rows | {counts['costs']:,} cost, {counts['metrics']:,} metric, {counts['resources']:,} resources | same files | |")
    print(f"| {ran} rules both ran, s | {both_ours:.1f} | {both_duck:.1f} | {both_duck / max(both_ours, 1e-3):.2f}x |")
    print(f"| shared views computed once, s | (in the rules stage) | {duck_views:.1f} | |")
    print(f"| rules stage (views, {len(rules)} rules, writing findings), s | {float(stage.group(1)):.1f} | | |")
    print(f"| whole process, s | {ours_s:.1f} | {duck_s:.1f} | {duck_s / ours_s:.2f}x |")
    print(f"| peak RSS | {ours_mb:,.0f} MiB | {duck_mb:,.0f} MiB | {ours_mb / duck_mb:.2f}x |")
    if differ:
        print(f"\nFINDINGS DIFFER between the two tools for: {', '.join(differ)}")
    print("\nspeed ratio = DuckDB time / cloudoptima time (above 1: cloudoptima faster); "
          "memory ratio = cloudoptima peak RSS / DuckDB peak RSS (below 1: cloudoptima leaner).")
    json.dump({"counts": counts, "ours": ours, "duckdb": duck, "ours_s": ours_s, "ours_mib": ours_mb,
               "duckdb_s": duck_s, "duckdb_mib": duck_mb},
              open(os.path.join(work, "..", "rules.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
