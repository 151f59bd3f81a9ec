#!/usr/bin/env python3
"""A fault-injecting HTTP proxy on 127.0.0.1 for the end-to-end suite.

It forwards every request to an upstream (moto) and, for a share of the EC2 requests, answers
instead as AWS does when throttling (HTTP 503 with a RequestLimitExceeded error document) or
with a server error (HTTP 500 InternalError). moto itself never throttles.

Usage: fault_proxy.py --upstream http://127.0.0.1:PORT --port-file FILE
                      [--throttle-every N] [--error-every N] [--only-actions A,B]
Every N-th matching request gets the fault (deterministic, so a test can count on it).
The proxy writes its port to --port-file once it listens and counts what it did in
GET /fault-proxy/stats (JSON).
"""
import argparse
import http.client
import http.server
import json
import threading
import urllib.parse

THROTTLE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            b'<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>'
            b'</Error></Errors><RequestID>fault-proxy</RequestID></Response>')
INTERNAL = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            b'<Code>InternalError</Code><Message>An internal error has occurred</Message>'
            b'</Error></Errors><RequestID>fault-proxy</RequestID></Response>')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--throttle-every", type=int, default=0)
    ap.add_argument("--error-every", type=int, default=0)
    ap.add_argument("--only-actions", default="")
    args = ap.parse_args()
    up = urllib.parse.urlsplit(args.upstream)
    only = {a for a in args.only_actions.split(",") if a}
    lock = threading.Lock()
    stats = {"forwarded": 0, "throttled": 0, "errors": 0, "matching": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _reply(self, code, body, ctype="text/xml"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == "/fault-proxy/stats":
                with lock:
                    self._reply(200, json.dumps(stats).encode(), "application/json")
                return
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            action = (form.get("Action") or [""])[0]
            is_ec2 = "Version" in form and (form.get("Version") or [""])[0] == "2016-11-15"
            fault = None
            if is_ec2 and (not only or action in only):
                with lock:
                    stats["matching"] += 1
                    n = stats["matching"]
                    if args.throttle_every and n % args.throttle_every == 0:
                        fault = (503, THROTTLE)
                        stats["throttled"] += 1
                    elif args.error_every and n % args.error_every == 0:
                        fault = (500, INTERNAL)
                        stats["errors"] += 1
            if fault:
                self._reply(*fault)
                return
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            with lock:
                stats["forwarded"] += 1
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_GET = _handle
        do_POST = _handle

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
