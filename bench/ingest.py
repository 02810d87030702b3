"""Driver for bench/ingest.sh: generate exports, run cloudoptima and DuckDB, print the table."""
import argparse
import json
import math
import os
import shutil
import sys

from common import LOAD_ONLY, measured

# Rows the demo tenant writes per unit of --scale over 395 days (measured: scale 59 writes 947,019).
ROWS_PER_SCALE = 16_050

PIPELINE = """name = "bench"
[[sources]]
kind = "azure_exports"
location = '{location}'
""" + LOAD_ONLY

DUCKDB_JOB = """
import duckdb, sys
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f\"\"\"
COPY (SELECT *, strftime(CAST(BillingPeriodStart AS TIMESTAMP), '%Y-%m') AS BillingPeriod
      FROM read_csv('{src}/**/*.csv', header = true, union_by_name = true))
TO '{out}' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (BillingPeriod))
\"\"\")
print(con.execute(f"SELECT COUNT(*) FROM read_parquet('{out}/**/*.parquet')").fetchall()[0][0])
"""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("rows", nargs="+")
    args = p.parse_args()
    binary = os.path.abspath(args.binary)
    sizes = [int(r) for chunk in args.rows for r in chunk.split()]
    results = []
    for target in sizes:
        work = os.path.abspath(os.path.join(args.dir, f"rows-{target}"))
        shutil.rmtree(work, ignore_errors=True)
        export = os.path.join(work, "export")
        scale = max(1, math.ceil(target / ROWS_PER_SCALE))
        print(f"== {target:,} rows: generating the export (demo scale {scale})", flush=True)
        gen_s, _, out = measured([binary, "demo-export", "--out", export, "--scale", str(scale),
                                  "--as-of", "2026-06-15"])
        rows = int(out.split()[1])
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(export) for f in fs)
        print(f"   {rows:,} rows, {size / 2**30:.2f} GiB of CSV in {gen_s:.0f} s", flush=True)

        pipelines = os.path.join(work, "pipelines")
        os.makedirs(pipelines)
        with open(os.path.join(pipelines, "bench.toml"), "w") as f:
            f.write(PIPELINE.format(location=export))
        lake = os.path.join(work, "lake")
        print("   cloudoptima ...", flush=True)
        ours_s, ours_mb, out = measured([binary, "--lake", lake, "--pipelines", pipelines, "run",
                                         "--as-of", "2026-06-15"], cwd=work)
        if "cost totals reconcile with the sources" not in out:
            sys.exit(f"cloudoptima did not reconcile:\n{out}")
        shutil.rmtree(os.path.join(lake, "landing"), ignore_errors=True)

        print("   duckdb ...", flush=True)
        duck_out = os.path.join(work, "duckdb")
        duck_s, duck_mb, out = measured([sys.executable, "-c", DUCKDB_JOB, export, duck_out])
        if int(out.strip()) != rows:
            sys.exit(f"duckdb wrote {out.strip()} rows, expected {rows}")
        results.append((rows, size, ours_s, ours_mb, duck_s, duck_mb))
        shutil.rmtree(work, ignore_errors=True)

    print()
    print("| rows | CSV | cloudoptima s | rows/s | peak RSS | DuckDB s | rows/s | peak RSS | speed ratio | memory ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rows, size, ours_s, ours_mb, duck_s, duck_mb in results:
        print(f"| {rows:,} | {size / 2**30:.2f} GiB | {ours_s:.1f} | {rows / ours_s:,.0f} | {ours_mb:,.0f} MiB "
              f"| {duck_s:.1f} | {rows / duck_s:,.0f} | {duck_mb:,.0f} MiB "
              f"| {duck_s / ours_s:.2f}x | {ours_mb / duck_mb:.2f}x |")
    print("\nspeed ratio = DuckDB time / cloudoptima time (above 1: cloudoptima faster); "
          "memory ratio = cloudoptima peak RSS / DuckDB peak RSS (below 1: cloudoptima leaner).")
    json.dump([dict(zip(("rows", "csv_bytes", "ours_s", "ours_mib", "duckdb_s", "duckdb_mib"), r))
               for r in results], open(os.path.join(args.dir, "ingest.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
