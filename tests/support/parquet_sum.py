"""A plain Parquet reader, as a BI tool pointed at a table's folder would be: DuckDB reads every
Parquet file under TABLE_DIR (hive partitions), ignoring the Delta log.

Usage: parquet_sum.py TABLE_DIR COLUMN  ->  prints {"sum": …, "rows": …, "files": …} as JSON.
"""
import glob
import json
import os
import sys

import duckdb


def main():
    table, column = sys.argv[1], sys.argv[2]
    files = glob.glob(os.path.join(table, "**", "*.parquet"), recursive=True)
    total, rows = duckdb.connect().execute(
        f'SELECT SUM("{column}"), COUNT(*) FROM read_parquet(?, hive_partitioning = true, union_by_name = true)',
        [files],
    ).fetchone()
    print(json.dumps({"sum": float(total or 0.0), "rows": int(rows), "files": len(files)}))


if __name__ == "__main__":
    main()
