"""Turn a CSV Cost Management export folder into the Parquet export of the same data, as an
export with file format Parquet and Snappy compression writes it: every part file converted by
DuckDB (which types the columns itself), every manifest rewritten to name the new blobs.

Usage: export_to_parquet.py SRC_DIR DST_DIR
"""
import json
import os
import sys

import duckdb


def main():
    src, dst = sys.argv[1], sys.argv[2]
    for root, _, files in os.walk(src):
        rel_dir = os.path.relpath(root, src)
        out_dir = os.path.join(dst, rel_dir)
        os.makedirs(out_dir, exist_ok=True)
        renamed = {}
        for name in files:
            if name.endswith(".csv") or name.endswith(".csv.gz"):
                stem = name[: -len(".csv.gz")] if name.endswith(".gz") else name[: -len(".csv")]
                target = stem + ".snappy.parquet"
                duckdb.sql(
                    f"COPY (SELECT * FROM read_csv('{os.path.join(root, name)}', header=true)) "
                    f"TO '{os.path.join(out_dir, target)}' (FORMAT parquet, COMPRESSION snappy)"
                )
                renamed[name] = target
        for name in files:
            if name == "manifest.json":
                with open(os.path.join(root, name)) as f:
                    manifest = json.load(f)
                for blob in manifest.get("blobs", []):
                    head, _, base = blob["blobName"].rpartition("/")
                    blob["blobName"] = f"{head}/{renamed.get(base, base)}"
                manifest["deliveryConfig"]["fileFormat"] = "Parquet"
                manifest["deliveryConfig"]["compressData"] = "Snappy"
                with open(os.path.join(out_dir, name), "w") as f:
                    json.dump(manifest, f, indent=2)


if __name__ == "__main__":
    main()
