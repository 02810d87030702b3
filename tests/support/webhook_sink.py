"""A real HTTP server for alert tests: it answers as Microsoft Teams Workflows, Slack incoming
webhooks and a signing-checking generic webhook do, and records every request.

Usage: webhook_sink.py --key SIGNING_KEY [--fail PATH:N ...] [--hang PATH ...]
Prints the port it listens on (127.0.0.1), then serves until stdin closes.

Routes (any query string is ignored, like a webhook URL's token):
  POST /teams/...  the body must be a Workflows message with one Adaptive Card attachment → 202
  POST /slack/...  the body must have `text` and well-formed blocks (header ≤ 150, sections ≤ 3000
                   characters) → 200 "ok"; otherwise 400 "invalid_payload", as Slack answers
  POST /hook/...   X-Cloudoptima-Timestamp within 5 minutes and X-Cloudoptima-Signature equal to
                   sha256=HMAC-SHA256(key, "<timestamp>.<body>") → 200; otherwise 401
  GET  /_log       every request so far: path, status answered, body (JSON), signature_ok
--fail PATH:N answers 500 to the first N requests on PATH; --hang PATH never answers in time.
"""
import argparse
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOG = []
LOCK = threading.Lock()


def teams_problem(body):
    if body.get("type") != "message":
        return "type must be message"
    att = body.get("attachments")
    if not isinstance(att, list) or len(att) != 1:
        return "exactly one attachment"
    a = att[0]
    if a.get("contentType") != "application/vnd.microsoft.card.adaptive":
        return "attachment is not an Adaptive Card"
    card = a.get("content") or {}
    if card.get("type") != "AdaptiveCard" or not card.get("version"):
        return "content is not an AdaptiveCard with a version"
    if not isinstance(card.get("body"), list) or not card["body"]:
        return "card has no body"
    for el in card["body"]:
        if el.get("type") not in ("TextBlock", "FactSet", "ColumnSet", "Container"):
            return f"unknown element {el.get('type')}"
        if el.get("type") == "FactSet":
            for f in el.get("facts", []):
                if not isinstance(f.get("title"), str) or not isinstance(f.get("value"), str):
                    return "a fact needs string title and value"
    return None


def slack_problem(body):
    if not isinstance(body.get("text"), str) or not body["text"]:
        return "no text"
    for b in body.get("blocks", []):
        t = b.get("type")
        text = (b.get("text") or {}).get("text", "")
        if t == "header":
            if b["text"].get("type") != "plain_text" or len(text) > 150:
                return "header must be plain_text of at most 150 characters"
        elif t == "section":
            if len(text) > 3000 or not text:
                return "section text must be 1 to 3000 characters"
        else:
            return f"unknown block {t}"
    return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_log":
            with LOCK:
                self.answer(200, json.dumps(LOG))
        else:
            self.answer(404, "not found")

    def do_POST(self):
        path = urlsplit(self.path).path
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        entry = {"path": path, "signature_ok": None}
        try:
            body = json.loads(raw)
            entry["body"] = body
        except ValueError:
            body = None
            entry["body"] = raw.decode(errors="replace")
        with LOCK:
            LOG.append(entry)
            seen = sum(1 for e in LOG if e["path"] == path)
        if path in HANG:
            entry["status"] = "hung"
            time.sleep(30)
            return
        if seen <= FAIL.get(path, 0):
            entry["status"] = 500
            return self.answer(500, "server error")
        if body is None:
            entry["status"] = 400
            return self.answer(400, "invalid_payload")
        if path.startswith("/teams/"):
            problem = teams_problem(body)
            entry["status"] = 400 if problem else 202
            return self.answer(entry["status"], problem or "")
        if path.startswith("/slack/"):
            problem = slack_problem(body)
            entry["status"] = 400 if problem else 200
            entry["problem"] = problem
            return self.answer(entry["status"], "invalid_payload" if problem else "ok")
        if path.startswith("/hook/"):
            stamp = self.headers.get("X-Cloudoptima-Timestamp", "")
            given = self.headers.get("X-Cloudoptima-Signature", "")
            want = "sha256=" + hmac.new(KEY, stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
            fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 300
            entry["signature_ok"] = fresh and hmac.compare_digest(given, want)
            entry["status"] = 200 if entry["signature_ok"] else 401
            return self.answer(entry["status"], "")
        entry["status"] = 404
        self.answer(404, "not found")


def main():
    global KEY, FAIL, HANG
    args = argparse.ArgumentParser()
    args.add_argument("--key", required=True)
    args.add_argument("--fail", action="append", default=[])
    args.add_argument("--hang", action="append", default=[])
    opts = args.parse_args()
    KEY = opts.key.encode()
    FAIL = {p.rsplit(":", 1)[0]: int(p.rsplit(":", 1)[1]) for p in opts.fail}
    HANG = set(opts.hang)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
