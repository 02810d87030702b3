"""An Azure API emulator for the tests: Resource Manager (subscriptions, Resource Graph, Cost
Management query and exports, Advisor, single-resource metrics), the Monitor metrics data plane
(`metrics:getBatch`), the Retail Prices API and an App Service managed-identity token endpoint, on
their real paths and in the response shapes of tests/fixtures/azure-api/ (the fixtures' envelopes
and records are the templates), serving a synthetic two-subscription tenant.

Usage: azure_emulator.py FIXTURES_DIR [--page-size N]
Prints the port it listens on (127.0.0.1), then serves until stdin closes.

Cost Details reports: POST generateCostDetailsReport answers 202 with a Location; polling it
answers 202 once, then the manifest, whose blob links (SAS-style, no token) serve the report's CSV.

Control endpoints (tests only):
  POST /_emulator/faults   JSON list of faults, each {"match": path substring, "kind": ..., "times": n},
      optionally "body": a substring the request body must contain
      kinds: "throttle" (429 with {"header": name, "value": seconds}), "status" ({"status": code},
      e.g. 503 or 403), "slow" ({"delay": seconds}), "truncate" (half the body, then the connection
      closes), "expire_token" (401 ExpiredAuthenticationToken; that token stays refused)
  POST /_emulator/settings {"token_life": seconds} for the tokens issued from now on;
      {"deny": [path substrings]}: the identity has no role there (403 AuthorizationFailed, every time);
      {"metrics_until": "2026-11-04T21:00:00Z"}: metric hours from then on have no value yet (late data)

Documented limits are enforced (400 BadRequest, as Azure answers): Query API groupings, daily
ranges and ResourceId grouping scopes; Resource Graph $top; metrics batch size and metric names.
  GET  /_emulator/log      every request: method, path, status, time, token
  GET  /_emulator/truth    the tenant: resources, cost rows per scope and month, tokens issued
                           (`issued`: each token and the resource it was issued for)
"""
import argparse
import base64
import copy
import glob
import hashlib
import json
import os
import re
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlparse

SUBSCRIPTIONS = [
    ("11111111-1111-1111-1111-111111111111", "Contoso Prod", "USD"),
    ("22222222-2222-2222-2222-222222222222", "Contoso Dev", "EUR"),
]
IDENTITY_HEADER = "emulator-identity-secret"
ARM_AUDIENCE = "https://management.azure.com"
METRICS_AUDIENCE = "https://metrics.monitor.azure.com"
VM_SIZES = ["Standard_D2s_v3", "Standard_D4s_v3", "Standard_E2s_v3"]
REGIONS = ["westeurope", "eastus"]
EUR_TO_USD = 1.08
# Documented limits the emulator enforces.
MAX_GROUPINGS = 2          # Cost Management Query: "Query can have up to 2 group by clauses"
MAX_DAILY_DAYS = 31        # Query with daily granularity: at most 31 days
QUERY_PAGE_ROWS = 1000     # rows per Query API page (then nextLink)
GRAPH_MAX_TOP = 1000       # Resource Graph: $top at most 1000
BATCH_MAX_IDS = 50         # metrics:getBatch: at most 50 resource ids
METRICS_MAX_NAMES = 20     # Azure Monitor: at most 20 metric names per request
DETAILS_MAX_DAYS = 31      # Cost Details report: at most one month per request
DETAILS_BLOB_ROWS = 1500   # rows per Cost Details CSV blob (then the next blob)


def fixture(root, name):
    [path] = glob.glob(os.path.join(root, "**", name), recursive=True)
    with open(path) as f:
        return json.load(f)


def unit(*parts):
    """A deterministic number in [0, 1) from the parts."""
    h = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return int(h[:8], 16) / 2**32


def build_tenant():
    resources = []
    for sub, _, _ in SUBSCRIPTIONS:
        def rid(rg, provider, name):
            return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider}/{name}"
        for i in range(30):
            region = REGIONS[i % 2]
            size = VM_SIZES[i % 3]
            vm = rid("RG-APP", "Microsoft.Compute/virtualMachines", f"vm-{i:02d}")
            disk = rid("RG-APP", "Microsoft.Compute/disks", f"vm-{i:02d}_OsDisk_1")
            power = "PowerState/deallocated" if i % 10 == 9 else "PowerState/running"
            resources.append({
                "id": vm, "name": f"vm-{i:02d}", "type": "microsoft.compute/virtualmachines",
                "location": region, "subscriptionId": sub, "resourceGroup": "rg-app",
                "sku": None, "kind": "", "tags": {"env": "prod" if i % 2 else "dev"},
                "managedBy": "",
                "properties": {"hardwareProfile": {"vmSize": size},
                               "provisioningState": "Succeeded",
                               "extended": {"instanceView": {"powerState": {"code": power}}},
                               "storageProfile": {"osDisk": {"managedDisk": {"id": disk}}}},
            })
            resources.append({
                "id": disk, "name": f"vm-{i:02d}_OsDisk_1", "type": "microsoft.compute/disks",
                "location": region, "subscriptionId": sub, "resourceGroup": "rg-app",
                "sku": {"name": "Premium_LRS", "tier": "Premium"}, "kind": "", "tags": {},
                "managedBy": vm,
                "properties": {"diskSizeGB": 128, "diskState": "Attached",
                               "timeCreated": "2025-01-10T08:00:00Z"},
            })
        for i in range(5):
            resources.append({
                "id": rid("RG-DATA", "Microsoft.Compute/disks", f"orphan-{i}"), "name": f"orphan-{i}",
                "type": "microsoft.compute/disks", "location": "westeurope", "subscriptionId": sub,
                "resourceGroup": "rg-data", "sku": {"name": "StandardSSD_LRS", "tier": "Standard"},
                "kind": "", "tags": {}, "managedBy": "",
                "properties": {"diskSizeGB": 256, "diskState": "Unattached",
                               "timeCreated": "2024-06-01T08:00:00Z"},
            })
            resources.append({
                "id": rid("RG-NET", "Microsoft.Network/publicIPAddresses", f"pip-{i}"),
                "name": f"pip-{i}", "type": "microsoft.network/publicipaddresses",
                "location": "westeurope", "subscriptionId": sub, "resourceGroup": "rg-net",
                "sku": {"name": "Standard", "tier": "Regional"}, "kind": "", "tags": {},
                "managedBy": "", "properties": {"publicIPAllocationMethod": "Static",
                                                "provisioningState": "Succeeded"},
            })
        for i in range(3):
            resources.append({
                "id": rid("RG-DATA", "Microsoft.Storage/storageAccounts", f"st{sub[:4]}{i}"),
                "name": f"st{sub[:4]}{i}", "type": "microsoft.storage/storageaccounts",
                "location": "westeurope", "subscriptionId": sub, "resourceGroup": "rg-data",
                "sku": {"name": "Standard_LRS", "tier": "Standard"}, "kind": "StorageV2",
                "tags": {}, "managedBy": "", "properties": {"accessTier": "Hot"},
            })
    return resources


def meter_of(resource):
    t = resource["type"]
    if t == "microsoft.compute/virtualmachines":
        size = resource["properties"]["hardwareProfile"]["vmSize"]
        return ("Virtual Machines", "Dv3/DSv3 Series", size.replace("Standard_", "") + " Linux",
                24.0 * (0.1 + VM_SIZES.index(size) * 0.1))
    if t == "microsoft.compute/disks":
        return ("Storage", "Premium SSD Managed Disks", "P10 LRS Disk", 0.6)
    if t == "microsoft.network/publicipaddresses":
        return ("Virtual Network", "IP Addresses", "Standard IPv4 Static Public IP", 0.12)
    return ("Storage", "Tiered Block Blob", "Hot LRS Data Stored", 0.9)


def cost_rows(resources, sub, currency, first, last, scope_rg=None):
    """Daily cost rows for one subscription between two dates, in the Query API's row order."""
    rows = []
    d = first
    while d <= last:
        for r in resources:
            if r["subscriptionId"] != sub:
                continue
            if scope_rg and r["resourceGroup"] != scope_rg.lower():
                continue
            category, sub_category, meter, daily = meter_of(r)
            cost = round(daily * (0.8 + 0.4 * unit(r["id"], d)), 6)
            usd = round(cost * (EUR_TO_USD if currency == "EUR" else 1.0), 6)
            meter_id = str(hashlib.md5(meter.encode()).hexdigest())
            meter_id = f"{meter_id[:8]}-{meter_id[8:12]}-{meter_id[12:16]}-{meter_id[16:20]}-{meter_id[20:32]}"
            rows.append({
                "Cost": cost, "CostUSD": usd, "UsageDate": int(d.strftime("%Y%m%d")),
                "ResourceId": r["id"].lower(), "ResourceGroupName": r["resourceGroup"],
                "ResourceLocation": r["location"], "SubscriptionId": sub,
                "ServiceName": category, "MeterCategory": category,
                "MeterSubcategory": sub_category, "Meter": meter, "MeterId": meter_id,
                "ChargeType": "Usage", "PricingModel": "OnDemand", "PublisherType": "Azure",
                "Frequency": "UsageBased", "Currency": currency, "_tags": r.get("tags") or {},
            })
        d += timedelta(days=1)
    return rows


class State:
    def __init__(self, root, page_size):
        self.lock = threading.Lock()
        self.faults = []
        self.log = []
        self.tokens = {}  # token -> audience
        self.token_life = 3600
        self.revoked = set()
        self.page_size = page_size
        self.resources = build_tenant()
        self.graph_envelope = fixture(root, "ResourcesFirstPageQuery.json")["responses"]["200"]["body"]
        self.query_envelope = fixture(root, "SubscriptionQueryGrouping.json")["responses"]["200"]["body"]
        self.batch_envelope = fixture(root, "MetricBatchExample.json")["responses"]["200"]["body"]
        self.single_envelope = fixture(root, "GetMetric.json")["responses"]["200"]["body"]
        self.advisor_template = fixture(root, "ListRecommendations.json")["responses"]["200"]["body"]["value"][0]
        self.price_template = fixture(root, "eastus_standard_d2s_v3_nofilter_preview.json")
        self.export_created = fixture(root, "ExportCreateOrUpdateBySubscription.json")["responses"]["201"]["body"]
        self.export_history = fixture(root, "ExportRunHistoryGetBySubscription.json")["responses"]["200"]["body"]
        self.definitions = fixture(root, "GetMetricDefinitionsMetricClass.json")["responses"]["200"]["body"]
        self.exports = {}
        self.export_runs = []
        self.denied = []  # path substrings this identity has no role on (403 every time)
        self.metrics_until = None  # hours from this one (ISO, UTC) have no value yet
        self.details_result = fixture(root, "CostDetailsOperationResultsBySubscriptionScope.json")["responses"]["200"]["body"]
        self.reports = {}  # operation id -> {"scope", "metric", "start", "end", "polls"}

    def take_fault(self, path, body=""):
        with self.lock:
            for f in self.faults:
                if f.get("times", 1) > 0 and f["match"] in path and f.get("body", "") in body:
                    f["times"] = f.get("times", 1) - 1
                    return dict(f)
        return None


def skip_token(offset):
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def offset_of(token):
    if not token:
        return 0
    return json.loads(base64.b64decode(token))["offset"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set in main

    def log_message(self, *args):
        pass

    # ---- plumbing -------------------------------------------------------------------------------
    def base(self):
        return f"http://{self.headers['Host']}"

    def record(self, status, token=None, sha=None, headers=None):
        if self.path.startswith("/_emulator/"):
            return
        with self.state.lock:
            self.state.log.append({"method": self.command, "path": self.path, "status": status,
                                   "time": time.time(), "token": token, "sha256": sha,
                                   "body": self.request_body, "headers": headers or {}})

    def send_json(self, status, body, headers=None, token=None, truncate=False):
        data = json.dumps(body).encode()
        self.record(status, token, hashlib.sha256(data).hexdigest(), headers)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if truncate:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    def error(self, status, code, message, headers=None, token=None):
        self.send_json(status, {"error": {"code": code, "message": message}}, headers, token)

    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        self.request_body = raw.decode()
        return json.loads(raw or b"null")

    # ---- routing --------------------------------------------------------------------------------
    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_PUT(self):
        self.route()

    def route(self):
        url = urlparse(self.path)
        path, query = url.path, parse_qs(url.query)
        self.request_body = ""
        body = self.body_json() if self.command in ("POST", "PUT") else None
        if path.startswith("/_emulator/"):
            return self.control(path, body)
        if path == "/msi/token":
            return self.token(query)
        if path == "/api/retail/prices":
            return self.retail(query)
        if path.startswith("/_reports/"):
            return self.report_blob(path, query)
        audience = METRICS_AUDIENCE if path.endswith("/metrics:getBatch") else ARM_AUDIENCE
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        fault = self.state.take_fault(path, self.request_body)
        if fault and fault["kind"] == "expire_token":
            with self.state.lock:
                self.state.revoked.add(token)
        if token in self.state.revoked:
            return self.error(401, "ExpiredAuthenticationToken",
                              "The access token expiry UTC time is earlier than current UTC time.",
                              token=token)
        if self.state.tokens.get(token) != audience:
            return self.error(401, "InvalidAuthenticationToken",
                              f"The access token is missing or has the wrong audience (want {audience}).",
                              token=token)
        denied = [d for d in self.state.denied if d in path]
        if denied:
            return self.error(403, "AuthorizationFailed",
                              "The client does not have authorization to perform action over scope "
                              f"'{path}' or the scope is invalid.", token=token)
        if fault:
            kind = fault["kind"]
            if kind == "throttle":
                return self.error(429, "TooManyRequests", "Too many requests. Please retry.",
                                  {fault["header"]: str(fault["value"])}, token)
            if kind == "status":
                status = fault["status"]
                code = "AuthorizationFailed" if status == 403 else "ServiceUnavailable"
                message = ("The client does not have authorization to perform this action."
                           if status == 403 else "The service is temporarily unavailable.")
                return self.error(status, code, message, token=token)
            if kind == "slow":
                time.sleep(fault["delay"])
            truncate = kind == "truncate"
        else:
            truncate = False
        self.truncate = truncate
        self.token_used = token
        if path == "/subscriptions":
            return self.reply({"value": [
                {"id": f"/subscriptions/{s}", "subscriptionId": s, "displayName": n, "state": "Enabled"}
                for s, n, _ in SUBSCRIPTIONS], "count": {"type": "Total", "value": len(SUBSCRIPTIONS)}})
        if path == "/providers/Microsoft.ResourceGraph/resources":
            return self.graph(body)
        if path.endswith("/providers/Microsoft.CostManagement/generateCostDetailsReport"):
            return self.generate_details(path[: -len("/providers/Microsoft.CostManagement/generateCostDetailsReport")], body)
        m = re.match(r"^(.*)/providers/Microsoft\.CostManagement/costDetailsOperationResults/([^/]+)$", path)
        if m:
            return self.details_result(m.group(2))
        if path.endswith("/providers/Microsoft.CostManagement/query"):
            return self.cost_query(path[: -len("/providers/Microsoft.CostManagement/query")], body, query)
        if path.endswith("/metrics:getBatch"):
            return self.metrics_batch(query, body)
        if path.endswith("/providers/Microsoft.Insights/metrics"):
            return self.metrics_single(path[: -len("/providers/Microsoft.Insights/metrics")], query)
        if path.endswith("/providers/Microsoft.Insights/metricDefinitions"):
            return self.reply(self.state.definitions)
        if path.endswith("/providers/Microsoft.Advisor/recommendations"):
            return self.advisor(path, query)
        if path.endswith("/providers/Microsoft.CostManagement/exports"):
            scope = path[: -len("/providers/Microsoft.CostManagement/exports")]
            with self.state.lock:
                mine = [e for e in self.state.exports.values()
                        if e["id"].lower().startswith(scope.strip("/").lower() + "/")]
            return self.reply({"value": mine})
        m = re.match(r"^(.*)/providers/Microsoft\.CostManagement/exports/([^/]+)(/run|/runHistory)?$", path)
        if m:
            return self.export(m.group(1), m.group(2), m.group(3), body)
        return self.error(404, "NotFound", f"no route for {path}", token=token)

    def reply(self, body):
        self.send_json(200, body, token=self.token_used, truncate=self.truncate)

    # ---- endpoints ------------------------------------------------------------------------------
    def control(self, path, body):
        st = self.state
        if path == "/_emulator/faults":
            with st.lock:
                st.faults = body or []
            return self.send_json(200, {"ok": True})
        if path == "/_emulator/settings":
            st.token_life = int(body.get("token_life", st.token_life))
            st.denied = list(body.get("deny", st.denied))
            st.metrics_until = body.get("metrics_until", st.metrics_until)
            return self.send_json(200, {"ok": True})
        if path == "/_emulator/log":
            with st.lock:
                log = list(st.log)
            return self.send_json(200, log)
        if path == "/_emulator/truth":
            return self.send_json(200, {
                "resources": st.resources,
                "subscriptions": [{"id": s, "currency": c} for s, _, c in SUBSCRIPTIONS],
                "tokens": len(st.tokens),
                "issued": dict(st.tokens),
                "export_runs": st.export_runs,
                "exports": st.exports,
            })
        if path == "/_emulator/cost":
            # Sum of cost rows for a subscription and inclusive date range (the test's oracle).
            sub, first, last = body["subscription"], date.fromisoformat(body["from"]), date.fromisoformat(body["to"])
            currency = dict((s, c) for s, _, c in SUBSCRIPTIONS)[sub]
            rows = cost_rows(st.resources, sub, currency, first, last)
            return self.send_json(200, {"rows": len(rows), "cost": sum(r["Cost"] for r in rows),
                                        "currency": currency})
        return self.send_json(404, {})

    def token(self, query):
        if self.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER:
            return self.send_json(400, {"error": "invalid_request", "error_description": "bad identity header"})
        resource = query.get("resource", [""])[0].rstrip("/")
        with self.state.lock:
            token = f"tok{len(self.state.tokens) + 1}"
            self.state.tokens[token] = resource
        self.send_json(200, {"access_token": token, "expires_on": str(int(time.time()) + self.state.token_life),
                             "resource": resource, "token_type": "Bearer"})

    def graph(self, body):
        subs = {s.lower() for s in body.get("subscriptions", [])}
        rows = [r for r in self.state.resources if r["subscriptionId"] in subs]
        options = body.get("options") or {}
        top = int(options.get("$top") or self.state.page_size)
        if top > GRAPH_MAX_TOP:
            return self.error(400, "BadRequest", f"$top must be at most {GRAPH_MAX_TOP}.",
                              token=self.token_used)
        start = offset_of(options.get("$skipToken"))
        page = rows[start: start + top]
        out = copy.deepcopy(self.state.graph_envelope)
        out.update({"totalRecords": len(rows), "count": len(page), "data": page})
        if start + top < len(rows):
            out["$skipToken"] = skip_token(start + top)
        else:
            out.pop("$skipToken", None)
        self.reply(out)

    def cost_query(self, scope, body, query):
        """The Query API within its documented limits: at most 2 groupings, daily granularity over
        at most 31 days, ResourceId grouping only at subscription and resource-group scope. Rows
        are aggregated by the requested date granularity and groupings."""
        token = self.token_used
        m = re.match(r"^/subscriptions/([^/]+)(?:/resourceGroups/([^/]+))?$", scope, re.I)
        billing = re.match(r"^/providers/Microsoft\.Billing/billingAccounts/[^/]+(/billingProfiles/[^/]+)?$",
                           scope, re.I)
        if not m and not billing:
            return self.error(400, "BadRequest", f"unsupported scope {scope}", token=token)
        dataset = body.get("dataset") or {}
        grouping = dataset.get("grouping") or []
        if len(grouping) > MAX_GROUPINGS:
            return self.error(400, "BadRequest",
                              f"Invalid query definition: Query can have up to {MAX_GROUPINGS} group by "
                              f"clauses, found {len(grouping)}.", token=token)
        granularity = dataset.get("granularity") or "None"
        if granularity not in ("Daily", "Monthly", "None"):
            return self.error(400, "BadRequest", f"Invalid granularity {granularity}.", token=token)
        period = body["timePeriod"]
        first = date.fromisoformat(period["from"][:10])
        last = date.fromisoformat(period["to"][:10])
        if granularity == "Daily" and (last - first).days + 1 > MAX_DAILY_DAYS:
            return self.error(400, "BadRequest",
                              f"Invalid query: the time period for daily granularity cannot exceed "
                              f"{MAX_DAILY_DAYS} days.", token=token)
        dims = [g["name"] for g in grouping if g["type"] == "Dimension"]
        tag_keys = [g["name"] for g in grouping if g["type"] == "TagKey"]
        if billing and "ResourceId" in dims:
            return self.error(400, "BadRequest",
                              "Grouping by ResourceId is not supported at billing account or profile "
                              "scope.", token=token)
        if m:
            sub, rg = m.group(1).lower(), m.group(2)
            currency = dict((s, c) for s, _, c in SUBSCRIPTIONS)[sub]
            rows = cost_rows(self.state.resources, sub, currency, first, last, rg)
        else:
            rows = [r for s, _, c in SUBSCRIPTIONS
                    for r in cost_rows(self.state.resources, s, c, first, last)]
        aggregations = dataset.get("aggregation") or {}
        groups = {}
        for r in rows:
            key = []
            if granularity == "Daily":
                key.append(r["UsageDate"])
            elif granularity == "Monthly":
                key.append(int(str(r["UsageDate"])[:6] + "01"))
            key += [r[d] for d in dims]
            for t in tag_keys:
                value = r["_tags"].get(t)
                key += [t if value is not None else "", value or ""]
            key.append(r["Currency"])
            sums = groups.setdefault(tuple(key), {n: 0.0 for n in aggregations})
            for n, agg in aggregations.items():
                sums[n] += r[agg["name"]]
        names = list(aggregations.keys())
        names += ["UsageDate"] if granularity == "Daily" else ["BillingMonth"] if granularity == "Monthly" else []
        names += dims + [n for _ in tag_keys for n in ("TagKey", "TagValue")] + ["Currency"]
        columns = [{"name": n, "type": "Number" if n in aggregations or n in ("UsageDate",) else "String"}
                   for n in names]
        table = [[round(sums[n], 10) for n in aggregations] + list(key) for key, sums in groups.items()]
        start = offset_of(query.get("$skiptoken", [None])[0])
        size = QUERY_PAGE_ROWS
        page = table[start: start + size]
        out = copy.deepcopy(self.state.query_envelope)
        out["properties"] = {"columns": columns, "rows": page, "nextLink": None}
        if start + size < len(table):
            out["properties"]["nextLink"] = (f"{self.base()}{scope}/providers/Microsoft.CostManagement/query"
                                             f"?api-version=2025-03-01&$skiptoken={skip_token(start + size)}")
        self.reply(out)

    # ---- Cost Details API (asynchronous report, CSV blobs) -----------------------------------------
    def generate_details(self, scope, body):
        """POST generateCostDetailsReport: 202 with a Location to poll. Subscription and billing
        scopes only (not resource groups); at most one month per request."""
        token = self.token_used
        sub = re.match(r"^/subscriptions/([^/]+)$", scope, re.I)
        if not sub:
            return self.error(400, "BadRequest",
                              f"Cost details reports are not supported at scope {scope}.", token=token)
        period = (body or {}).get("timePeriod") or {}
        try:
            start, end = date.fromisoformat(period["start"]), date.fromisoformat(period["end"])
        except (KeyError, ValueError):
            return self.error(400, "BadRequest", "timePeriod needs start and end dates.", token=token)
        if (end - start).days + 1 > DETAILS_MAX_DAYS:
            return self.error(400, "BadRequest",
                              "The time period of a cost details report cannot exceed one month.",
                              token=token)
        metric = body.get("metric", "ActualCost")
        with self.state.lock:
            op = f"{len(self.state.reports) + 1:08d}-0000-0000-0000-000000000000"
            self.state.reports[op] = {"scope": scope, "sub": sub.group(1).lower(), "metric": metric,
                                      "start": start, "end": end, "polls": 0}
        location = (f"{self.base()}{scope}/providers/Microsoft.CostManagement/costDetailsOperationResults/"
                    f"{op}?api-version=2025-03-01")
        self.send_json(202, {}, headers={"Location": location, "Retry-After": "1"}, token=token)

    def report_rows(self, report):
        currency = dict((s, c) for s, _, c in SUBSCRIPTIONS)[report["sub"]]
        return cost_rows(self.state.resources, report["sub"], currency, report["start"], report["end"])

    def details_result(self, op):
        """GET costDetailsOperationResults: 202 (in progress) on the first poll, then the manifest
        with one blob per DETAILS_BLOB_ROWS rows."""
        token = self.token_used
        with self.state.lock:
            report = self.state.reports.get(op)
            if report:
                report["polls"] += 1
        if not report:
            return self.error(404, "NotFound", f"no operation {op}", token=token)
        if report["polls"] < 2:
            location = (f"{self.base()}{report['scope']}/providers/Microsoft.CostManagement/"
                        f"costDetailsOperationResults/{op}?api-version=2025-03-01")
            return self.send_json(202, {"status": "InProgress"},
                                  headers={"Location": location, "Retry-After": "1"}, token=token)
        rows = self.report_rows(report)
        blobs = []
        for n in range(max(1, -(-len(rows) // DETAILS_BLOB_ROWS))):
            text = self.report_csv(report, n)
            blobs.append({"blobLink": f"{self.base()}/_reports/{op}/part-{n}.csv?sv=2020-05-31&sr=b&sig=emulator",
                          "byteCount": len(text.encode())})
        out = copy.deepcopy(self.state.details_result)
        out["name"] = op
        out["id"] = f"{report['scope']}/providers/Microsoft.CostManagement/costDetailsOperationResults/{op}"
        out["manifest"].update({
            "blobCount": len(blobs), "blobs": blobs, "byteCount": sum(b["byteCount"] for b in blobs),
            "requestContext": {"requestScope": report["scope"].lstrip("/"), "requestBody": {
                "metric": report["metric"],
                "timePeriod": {"start": report["start"].isoformat(), "end": report["end"].isoformat()}}},
        })
        self.reply(out)

    def report_csv(self, report, n):
        """Blob n of a report: the EA actual-cost columns, dates as Azure writes them (MM/DD/YYYY)."""
        rows = self.report_rows(report)[n * DETAILS_BLOB_ROWS: (n + 1) * DETAILS_BLOB_ROWS]
        header = ["Date", "BillingPeriodStartDate", "BillingPeriodEndDate", "SubscriptionId",
                  "SubscriptionName", "ResourceGroup", "ResourceId", "ResourceLocation", "MeterCategory",
                  "MeterSubCategory", "MeterName", "MeterId", "Quantity", "Cost", "BillingCurrency",
                  "ChargeType", "PricingModel", "Frequency", "ConsumedService"]
        names = dict((s, name) for s, name, _ in SUBSCRIPTIONS)
        lines = [",".join(header)]
        for r in rows:
            d = datetime.strptime(str(r["UsageDate"]), "%Y%m%d").date()
            first = d.replace(day=1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            lines.append(",".join([
                d.strftime("%m/%d/%Y"), first.strftime("%m/%d/%Y"), last.strftime("%m/%d/%Y"),
                r["SubscriptionId"], names[r["SubscriptionId"]], r["ResourceGroupName"], r["ResourceId"],
                r["ResourceLocation"], r["MeterCategory"], r["MeterSubcategory"], r["Meter"], r["MeterId"],
                "24", repr(r["Cost"]), r["Currency"], "Usage", "OnDemand", "UsageBased", "Microsoft.Compute",
            ]))
        return "\n".join(lines) + "\n"

    def report_blob(self, path, query):
        """A report blob behind its SAS link: no bearer token is accepted here."""
        if self.headers.get("Authorization"):
            return self.send_json(400, {"error": "a SAS link takes no Authorization header"})
        m = re.match(r"^/_reports/([^/]+)/part-(\d+)\.csv$", path)
        report = m and self.state.reports.get(m.group(1))
        if not report or query.get("sig") != ["emulator"]:
            return self.send_json(403, {"error": "AuthenticationFailed"})
        data = self.report_csv(report, int(m.group(2))).encode()
        self.record(200, None, hashlib.sha256(data).hexdigest())
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def series(self, rid, names, start, end):
        hours = int((end - start).total_seconds() // 3600)
        out = []
        for name in names:
            data = []
            for h in range(hours):
                t = start + timedelta(hours=h)
                stamp = t.strftime("%Y-%m-%dT%H:%M:%SZ")
                until = self.state.metrics_until
                if until and stamp >= until:
                    # Not aggregated yet: Azure Monitor returns the hour with no value.
                    data.append({"timeStamp": stamp})
                    continue
                v = round(100 * unit(rid.lower(), name, t.isoformat()), 3)
                data.append({"timeStamp": stamp, "average": v,
                             "maximum": round(min(100.0, v * 1.5), 3)})
            out.append({"id": f"{rid}/providers/Microsoft.Insights/metrics/{name}",
                        "type": "Microsoft.Insights/metrics",
                        "name": {"value": name, "localizedValue": name},
                        "unit": "Percent", "timeseries": [{"metadatavalues": [], "data": data}],
                        "errorCode": "Success"})
        return out

    def metrics_batch(self, query, body):
        start = datetime.fromisoformat(query["starttime"][0].replace("Z", "+00:00"))
        end = datetime.fromisoformat(query["endtime"][0].replace("Z", "+00:00"))
        names = query["metricnames"][0].split(",")
        ids = body["resourceids"]
        if len(ids) > BATCH_MAX_IDS:
            return self.error(400, "BadRequest", f"at most {BATCH_MAX_IDS} resource ids per batch",
                              token=self.token_used)
        if len(names) > METRICS_MAX_NAMES:
            return self.error(400, "BadRequest", f"at most {METRICS_MAX_NAMES} metric names per request",
                              token=self.token_used)
        template = self.state.batch_envelope["values"][0]
        values = []
        for rid in ids:
            v = {k: template[k] for k in template if k != "value"}
            v.update({"starttime": query["starttime"][0], "endtime": query["endtime"][0],
                      "interval": "PT1H", "namespace": query["metricnamespace"][0],
                      "resourceregion": "westeurope", "resourceid": rid,
                      "value": self.series(rid, names, start, end)})
            values.append(v)
        self.reply({"values": values})

    def metrics_single(self, rid, query):
        first, last = query["timespan"][0].split("/")
        start = datetime.fromisoformat(first.replace("Z", "+00:00"))
        end = datetime.fromisoformat(last.replace("Z", "+00:00"))
        out = copy.deepcopy(self.state.single_envelope)
        out.update({"timespan": query["timespan"][0], "interval": "PT1H",
                    "value": self.series(rid, query["metricnames"][0].split(","), start, end)})
        self.reply(out)

    def advisor(self, path, query):
        sub = path.split("/")[2].lower()
        vms = [r for r in self.state.resources
               if r["subscriptionId"] == sub and r["type"] == "microsoft.compute/virtualmachines"][:4]
        recs = []
        for i, vm in enumerate(vms):
            rec = copy.deepcopy(self.state.advisor_template)
            rec["id"] = f"{vm['id']}/providers/Microsoft.Advisor/recommendations/rec-{sub[:4]}-{i}"
            rec["name"] = f"rec-{sub[:4]}-{i}"
            p = rec["properties"]
            p.update({"category": "Cost", "impact": "High",
                      "impactedField": "Microsoft.Compute/virtualMachines", "impactedValue": vm["name"],
                      "recommendationTypeId": "e10b1381-5f0a-47ff-8c7b-37bd13d7c974",
                      "shortDescription": {"problem": "Right-size or shutdown underutilized virtual machines",
                                           "solution": "Right-size or shutdown underutilized virtual machines"},
                      "extendedProperties": {"annualSavingsAmount": str(100 * (i + 1)),
                                             "savingsCurrency": "USD"}})
            p["resourceMetadata"]["resourceId"] = vm["id"]
            recs.append(rec)
        start = int(query.get("$skiptoken", ["0"])[0])
        page = recs[start: start + 2]
        out = {"value": page}
        if start + 2 < len(recs):
            out["nextLink"] = (f"{self.base()}{path}?api-version=2025-01-01&$skiptoken={start + 2}")
        self.reply(out)

    def retail(self, query):
        fault = self.state.take_fault("/api/retail/prices")
        self.token_used = None
        self.truncate = bool(fault and fault["kind"] == "truncate")
        if fault and fault["kind"] == "throttle":
            return self.error(429, "TooManyRequests", "Too many requests.", {fault["header"]: str(fault["value"])})
        flt = query.get("$filter", [""])[0]
        region = (re.search(r"armRegionName eq '([^']+)'", flt) or [None, None])[1]
        skus = re.findall(r"armSkuName eq '([^']+)'", flt)
        items = []
        template = self.state.price_template["Items"][0]
        for sku in skus:
            for os_name, factor in (("Linux", 1.0), ("Windows", 1.8)):
                item = copy.deepcopy(template)
                price = round((0.1 + VM_SIZES.index(sku) * 0.1 if sku in VM_SIZES else 0.05) * factor, 4)
                meter = hashlib.md5(f"{region}{sku}{os_name}".encode()).hexdigest()
                item.update({"armRegionName": region, "armSkuName": sku, "retailPrice": price,
                             "unitPrice": price, "meterId": f"{meter[:8]}-{meter[8:12]}-{meter[12:16]}-{meter[16:20]}-{meter[20:32]}",
                             "meterName": sku.replace("Standard_", "").replace("_", " "),
                             "productName": f"Virtual Machines {os_name}", "type": "Consumption",
                             "skuName": sku.replace("Standard_", "").replace("_", " ")})
                items.append(item)
        skip = int(query.get("$skip", ["0"])[0])
        page = items[skip: skip + 3]
        out = {k: v for k, v in self.state.price_template.items() if k not in ("Items", "NextPageLink", "Count")}
        out.update({"Items": page, "Count": len(page), "NextPageLink": None})
        if skip + 3 < len(items):
            out["NextPageLink"] = (f"{self.base()}/api/retail/prices?currencyCode='USD'"
                                   f"&$filter={quote(flt)}&$skip={skip + 3}")
        self.reply(out)

    def export(self, scope, name, action, body):
        st = self.state
        if self.command == "PUT" and not action:
            created = copy.deepcopy(st.export_created)
            created["id"] = f"{scope.lstrip('/')}/providers/Microsoft.CostManagement/exports/{name}"
            created["name"] = name
            created["properties"].update(body.get("properties", {}))
            st.exports[name] = created
            return self.send_json(201, created, token=self.token_used)
        if name not in st.exports:
            return self.error(404, "NotFound", f"export {name} not found", token=self.token_used)
        if action == "/run":
            st.export_runs.append({"export": name, "body": body})
            self.record(200, self.token_used)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if action == "/runHistory":
            return self.reply(st.export_history)
        return self.reply(st.exports[name])


def main():
    args = argparse.ArgumentParser()
    args.add_argument("fixtures")
    args.add_argument("--page-size", type=int, default=50)
    opts = args.parse_args()
    Handler.state = State(opts.fixtures, opts.page_size)
    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            # A client that timed out on a slow response has gone: expected, not worth a traceback.
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
