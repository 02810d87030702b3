"""Independent reader for the tests: replay a Delta table's log and sum a column with DuckDB.

Usage: delta_sum.py TABLE_DIR COLUMN  ->  prints the sum (and the number of rows) as JSON.
Shares no code with cloudoptima: the log is replayed here (add/remove actions in version order) and
DuckDB reads the Parquet files it names.
"""
import json
import sys

import duckdb

from duckdb_query import active_files as active_files_with_partitions


def active_files(table):
    return [path for path, _ in active_files_with_partitions(table)]


def main():
    table, column = sys.argv[1], sys.argv[2]
    files = active_files(table)
    if not files:
        print(json.dumps({"sum": 0.0, "rows": 0}))
        return
    con = duckdb.connect()
    total, rows = con.execute(
        f'SELECT SUM("{column}"), COUNT(*) FROM read_parquet(?, hive_partitioning = false)', [files]
    ).fetchone()
    print(json.dumps({"sum": float(total or 0.0), "rows": int(rows), "files": len(files)}))


if __name__ == "__main__":
    main()
