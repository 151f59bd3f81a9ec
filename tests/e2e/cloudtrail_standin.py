#!/usr/bin/env python3
"""A loopback stand-in for the CloudTrail LookupEvents API, for the end-to-end tests.

It exists because moto (5.2.1, the pinned version) does not implement LookupEvents. It speaks
the documented JSON 1.1 protocol of that one action exactly: POST / with
`X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`,
`Content-Type: application/x-amz-json-1.1`, a SigV4 Authorization for the service `cloudtrail`
(its shape is checked, not the signature), the request
`{"LookupAttributes": [{"AttributeKey", "AttributeValue"}], "MaxResults", "NextToken", ...}`
and the answer `{"Events": [{"EventId", "EventName", "ReadOnly", "AccessKeyId", "EventTime",
"EventSource", "Username", "Resources", "CloudTrailEvent"}], "NextToken"}`, errors as
`{"__type": "<Code>", "message": "..."}` with HTTP 400.

Tests load the "real" CloudTrail records (what AWS would have recorded) with
`POST /standin/records` (a record, or a list of them), and read `GET /standin/stats`. It binds
127.0.0.1 only, on a free port written to --port-file.
"""
import argparse
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
ATTRIBUTE_KEYS = {
    "EventId": lambda r: r.get("eventID"),
    "EventName": lambda r: r.get("eventName"),
    "ReadOnly": lambda r: str(r.get("readOnly", False)).lower(),
    "Username": lambda r: username(r),
    "EventSource": lambda r: r.get("eventSource"),
    "AccessKeyId": lambda r: (r.get("userIdentity") or {}).get("accessKeyId"),
    "ResourceType": lambda r: None,
    "ResourceName": lambda r: None,
}
AUTH = re.compile(r"^AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/[a-z0-9-]+/cloudtrail/aws4_request, "
                  r"SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$")

lock = threading.Lock()
records = []
stats = {"lookups": 0, "found": 0, "errors": 0}


def username(r):
    who = r.get("userIdentity") or {}
    return who.get("userName") or (who.get("arn") or "").rsplit("/", 1)[-1] or None


def epoch(ts):
    from datetime import datetime
    return datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").timestamp() if ts else 0.0


def event_of(r):
    return {
        "EventId": r.get("eventID"),
        "EventName": r.get("eventName"),
        "ReadOnly": str(r.get("readOnly", False)).lower(),
        "AccessKeyId": (r.get("userIdentity") or {}).get("accessKeyId", ""),
        "EventTime": epoch(r.get("eventTime")),
        "EventSource": r.get("eventSource"),
        "Username": username(r),
        "Resources": [],
        "CloudTrailEvent": json.dumps(r),
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, obj, ctype="application/x-amz-json-1.1"):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "standin-0000")
        self.end_headers()
        self.wfile.write(body)

    def error(self, code, message):
        with lock:
            stats["errors"] += 1
        self.answer(400, {"__type": code, "message": message})

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/standin/stats":
            with lock:
                self.answer(200, dict(stats, records=len(records)), "application/json")
            return
        self.answer(404, {"message": "not found"}, "application/json")

    def do_POST(self):
        raw = self.body()
        if self.path == "/standin/records":
            loaded = json.loads(raw)
            with lock:
                records.extend(loaded if isinstance(loaded, list) else [loaded])
            self.answer(200, {"records": len(records)}, "application/json")
            return
        if self.path != "/":
            self.answer(404, {"message": "not found"}, "application/json")
            return
        target = self.headers.get("X-Amz-Target", "")
        if target != TARGET:
            self.error("UnknownOperationException", "unknown operation %s" % target)
            return
        if not self.headers.get("Content-Type", "").startswith("application/x-amz-json-1.1"):
            self.error("SerializationException", "content type must be application/x-amz-json-1.1")
            return
        if not AUTH.match(self.headers.get("Authorization", "")) or not self.headers.get("X-Amz-Date"):
            self.error("UnrecognizedClientException", "the security token included in the request is invalid")
            return
        try:
            req = json.loads(raw or b"{}")
            assert isinstance(req, dict)
        except Exception:
            self.error("SerializationException", "the request is not JSON")
            return
        attrs = req.get("LookupAttributes") or []
        if not isinstance(attrs, list) or len(attrs) > 1:
            self.error("InvalidLookupAttributesException", "at most one lookup attribute is allowed")
            return
        max_results = req.get("MaxResults", 50)
        if not isinstance(max_results, int) or not 1 <= max_results <= 50:
            self.error("InvalidMaxResultsException", "MaxResults must be 1 to 50")
            return
        with lock:
            stats["lookups"] += 1
            found = list(records)
        for a in attrs:
            key, value = a.get("AttributeKey"), a.get("AttributeValue")
            if key not in ATTRIBUTE_KEYS or not isinstance(value, str) or not value:
                self.error("InvalidLookupAttributesException", "invalid lookup attribute %s" % key)
                return
            found = [r for r in found if ATTRIBUTE_KEYS[key](r) == value]
        found = found[:max_results]
        with lock:
            stats["found"] += len(found)
        self.answer(200, {"Events": [event_of(r) for r in found]})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
