"""Read an export back the way a BI user would: DuckDB over hive-partitioned files.

Usage: hive_read.py FOLDER FORMAT < queries.json
       hive_read.py azurite:PORT/CONTAINER/PREFIX FORMAT < queries.json
FORMAT is parquet or csv. Each query runs over a view `t` of FOLDER/**/*.FORMAT read with
hive_partitioning = true; prints a JSON list of each query's rows. An Azurite location is first
downloaded blob by blob (with the Azure Storage SDK, not cloudoptima) into a temporary folder;
the listing of blob names is printed to stderr.
Shares no code with cloudoptima.
"""
import datetime
import decimal
import json
import os
import sys
import tempfile

import duckdb

ACCOUNT = "devstoreaccount1"
AZURITE_PUBLIC_DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def download(location, into):
    from azure.storage.blob import BlobServiceClient

    port, container, prefix = location[len("azurite:"):].split("/", 2)
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={AZURITE_PUBLIC_DEV_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )
    client = BlobServiceClient.from_connection_string(conn).get_container_client(container)
    for blob in client.list_blobs(name_starts_with=prefix.rstrip("/") + "/"):
        rel = blob.name[len(prefix.rstrip("/")) + 1:]
        print(rel, file=sys.stderr)
        path = os.path.join(into, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(client.download_blob(blob.name).readall())
    return into


def plain(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def main():
    location, fmt = sys.argv[1], sys.argv[2]
    queries = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as tmp:
        folder = download(location, tmp) if location.startswith("azurite:") else location
        con = duckdb.connect()
        reader = "read_parquet" if fmt == "parquet" else "read_csv"
        con.execute(
            f"CREATE VIEW t AS SELECT * FROM {reader}('{folder}/**/*.{fmt}', hive_partitioning = true)"
        )
        out = [[[plain(v) for v in row] for row in con.execute(q).fetchall()] for q in queries]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
