"""A PostgreSQL driver (pg8000, pure Python: its own SCRAM, extended protocol and TLS) against
`cloudoptima serve`.

Usage: pg_client.py PORT USER PASSWORD [--tls CAFILE] < script.json
script.json: a list of {"sql": "...", "params": [...]} (params optional). Prints a JSON list with,
for each statement, {"rows": [...]} or {"error": "SQLSTATE: message"}. A connection that cannot be
made prints {"connect_error": "..."} and exits 0.
"""
import datetime
import decimal
import json
import ssl
import sys

import pg8000.dbapi


def plain(v):
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v


def main():
    port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    context = None
    if len(sys.argv) > 5 and sys.argv[4] == "--tls":
        context = ssl.create_default_context(cafile=sys.argv[5])
        context.check_hostname = False
    script = json.load(sys.stdin)
    try:
        conn = pg8000.dbapi.connect(
            host="127.0.0.1", port=port, user=user, password=password, database="lake",
            ssl_context=context, timeout=60,
        )
    except Exception as e:  # noqa: BLE001 - the error text is the result
        print(json.dumps({"connect_error": str(e)}))
        return
    conn.autocommit = True
    out = []
    for step in script:
        cur = conn.cursor()
        try:
            cur.execute(step["sql"], tuple(step.get("params") or ()))
            rows = cur.fetchall() if cur.description else []
            out.append({"rows": [[plain(v) for v in r] for r in rows]})
        except pg8000.dbapi.DatabaseError as e:
            info = e.args[0] if e.args and isinstance(e.args[0], dict) else {}
            out.append({"error": f"{info.get('C', '?')}: {info.get('M', str(e))}"})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
