"""A real HTTP server that answers as OpenAI's chat-completions API does (and Azure OpenAI's
deployment path), scripted by the tests.

Usage: llm_server.py --key KEY --replies FILE
Prints the port it listens on (127.0.0.1), then serves until stdin closes.

Routes:
  POST /v1/chat/completions                                  Authorization: Bearer KEY
  POST /openai/deployments/NAME/chat/completions?api-version=V   api-key: KEY, or an Entra token
                                                             (Authorization: Bearer …, logged)
  GET  /_log   every request so far: path, query, the model and messages it sent

Requests are checked as the real services check them: JSON body, `model` (OpenAI path),
`messages` a non-empty list of {role, content} with known roles; a wrong key is 401, a missing
api-version 404, a bad body 400, each with OpenAI's error object.

FILE holds a JSON list of replies, used in order (the last one repeats):
  {"text": "..."}                the assistant's message
  {"summary_from_facts": true, "invent": "987,654.32"}
                                 a summary written from the facts JSON in the user message, using
                                 only its numbers (plus `invent`, when given, an invented figure)
  {"status": 500}                an error with OpenAI's error object
  {"delay": 5, "text": "..."}    the answer after a delay
  {"malformed": true}            200 with a body that is not a chat completion
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOG = []
LOCK = threading.Lock()
ROLES = {"system", "developer", "user", "assistant", "tool"}


def money(v):
    return f"{v:,.2f}"


def summary_from_facts(facts):
    parts = []
    for c in facts.get("currencies", []):
        cur = c["currency"]
        parts.append(
            f"Month-to-date cost is {money(c['month_to_date'])} {cur}, against "
            f"{money(c['previous_month_same_point'])} {cur} at the same point last month."
        )
        end = c.get("forecast_month_end")
        if end:
            parts.append(
                f"The month should end near {money(end['point'])} {cur}, between "
                f"{money(end['lower_80'])} and {money(end['upper_80'])} {cur}."
            )
        parts.append(
            f"Findings could save {money(c['monthly_savings_found'])} {cur} a month."
        )
    for b in facts.get("budgets", []):
        parts.append(
            f"Budget {b['name']} has spent {money(b['spent'])} of {money(b['amount'])} {b['currency']}."
        )
    parts.append(f"There are {facts.get('anomaly_count', 0)} open anomalies.")
    return " ".join(parts)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, message, kind):
        self.send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": None}})

    def do_GET(self):
        if self.path == "/_log":
            with LOCK:
                self.send_json(200, LOG)
        else:
            self.error(404, "not found", "invalid_request_error")

    def do_POST(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        query = parse_qs(url.query)
        azure = url.path.startswith("/openai/deployments/")
        if azure:
            segments = url.path.split("/")
            if len(segments) != 6 or not segments[3] or segments[4:] != ["chat", "completions"]:
                return self.error(404, "Resource not found", "invalid_request_error")
            if not query.get("api-version"):
                return self.error(404, "Resource not found (no api-version)", "invalid_request_error")
            bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            if self.headers.get("api-key") != ARGS.key and not (bearer and not self.headers.get("api-key")):
                return self.error(401, "Access denied due to invalid subscription key or Entra token",
                                  "invalid_request_error")
        elif url.path == "/v1/chat/completions":
            if self.headers.get("Authorization") != f"Bearer {ARGS.key}":
                return self.error(401, "Incorrect API key provided", "invalid_request_error")
        else:
            return self.error(404, f"Unknown request URL: POST {url.path}", "invalid_request_error")
        try:
            body = json.loads(raw)
        except ValueError:
            return self.error(400, "We could not parse the JSON body of your request.", "invalid_request_error")
        messages = body.get("messages")
        if not azure and not isinstance(body.get("model"), str):
            return self.error(400, "you must provide a model parameter", "invalid_request_error")
        if not isinstance(messages, list) or not messages:
            return self.error(400, "'messages' must be a non-empty array", "invalid_request_error")
        for m in messages:
            if m.get("role") not in ROLES or not isinstance(m.get("content"), (str, list)):
                return self.error(400, f"invalid message: {m}", "invalid_request_error")
        with LOCK:
            bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            LOG.append({"path": url.path, "query": url.query, "model": body.get("model"), "messages": messages,
                        "auth": "api-key" if self.headers.get("api-key") else ("bearer" if bearer else None),
                        "bearer": bearer if azure and bearer else None})
            reply = REPLIES[min(len(LOG) - 1, len(REPLIES) - 1)]
        if reply.get("delay"):
            time.sleep(reply["delay"])
        if reply.get("status"):
            return self.error(reply["status"], "The server had an error while processing your request.", "server_error")
        if reply.get("malformed"):
            return self.send_json(200, {"id": "chatcmpl-x", "object": "chat.completion", "choices": "none"})
        if reply.get("summary_from_facts"):
            user = next(m["content"] for m in messages if m["role"] == "user")
            text = summary_from_facts(json.loads(user))
            if reply.get("invent"):
                text += f" Savings could reach {reply['invent']} if all is fixed."
        else:
            text = reply["text"]
        self.send_json(200, {
            "id": f"chatcmpl-{len(LOG)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or "deployment",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        })


def main():
    global ARGS, REPLIES
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", required=True)
    parser.add_argument("--replies", required=True)
    ARGS = parser.parse_args()
    with open(ARGS.replies) as f:
        REPLIES = json.load(f)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
