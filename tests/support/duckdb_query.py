"""Independent SQL engine for the tests: run queries with DuckDB over a Delta table's Parquet files.

Usage: duckdb_query.py TABLE_DIR VIEW_NAME < queries.json  ->  prints a JSON list with each query's
rows (lists of values in column order; dates and times as ISO text, decimals as floats).
Shares no code with cloudoptima: the Delta log is replayed here (add/remove actions in version
order), partition values are added back as columns, and DuckDB runs the queries as written.
"""
import datetime
import decimal
import json
import os
import sys
from urllib.parse import unquote

import duckdb


def active_files(table):
    log = os.path.join(table, "_delta_log")
    files = {}
    for name in sorted(n for n in os.listdir(log) if n.endswith(".json")):
        with open(os.path.join(log, name)) as f:
            for line in f:
                action = json.loads(line)
                if "add" in action:
                    files[action["add"]["path"]] = action["add"].get("partitionValues", {})
                elif "remove" in action:
                    files.pop(action["remove"]["path"], None)
    return [(os.path.join(table, unquote(p)), parts) for p, parts in files.items()]


def plain(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def main():
    table, view = sys.argv[1], sys.argv[2]
    queries = json.load(sys.stdin)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    parts = []
    for path, partitions in active_files(table):
        extra = "".join(
            f", {'NULL' if v is None else repr(v)} AS \"{k}\"" for k, v in partitions.items()
        )
        parts.append(f"SELECT *{extra} FROM read_parquet('{path}', hive_partitioning = false)")
    con.execute(f"CREATE VIEW {view} AS " + " UNION ALL BY NAME ".join(parts))
    out = []
    for q in queries:
        rows = con.execute(q).fetchall()
        out.append([[plain(v) for v in row] for row in rows])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
