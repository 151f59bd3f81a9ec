#!/usr/bin/env python3
"""A fault-injecting HTTP proxy on 127.0.0.1 for the end-to-end suite.

It forwards every request to an upstream (moto) and, for a share of the EC2 requests, answers
instead as AWS does when throttling (HTTP 503 with a RequestLimitExceeded error document) or
with a server error (HTTP 500 InternalError). moto itself never throttles.

Usage: fault_proxy.py --upstream http://127.0.0.1:PORT --port-file FILE
                      [--throttle-every N] [--error-every N] [--only-actions A,B] [--record FILE]
Every N-th matching request gets the fault (deterministic, so a test can count on it).
The proxy writes its port to --port-file once it listens and counts what it did in
GET /fault-proxy/stats (JSON; "actions" counts the forwarded requests per Action).

Holding (a frozen endpoint): POST /fault-proxy/hold?actions=A,B (no actions: every request)
makes matching requests wait; POST /fault-proxy/release lets them through, or with ?drop=1
closes their connections unanswered (as if the caller died before they left). Stats count
"held" (waiting now) and "held_total".

Recording (make-before-break measured on the wire, tests/e2e/wire_gap.py): with --record FILE
every mutating EC2 call forwarded upstream (any Action but Describe*, Get*, List*) is appended
to FILE as one JSON line {"action", "params" (the form without Action and Version), "status",
"t0" (monotonic seconds before it was sent upstream), "t1" (after its answer arrived)}; calls
the proxy answered itself (a fault) are recorded with "faulted": true. POST
/fault-proxy/mark?name=N appends {"mark": N, "t": ...}, so a reader can take the calls after it.

In front of kube-apiserver (--upstream https://...): TLS on both sides (--tls-cert/--tls-key
served, --ca and --client-cert/--client-key towards the server), responses streamed, so watches
pass through. POST /fault-proxy/cut closes every open stream; POST /fault-proxy/watch?refuse=1
closes watch requests at once; ?gone_below=R answers a watch from a resourceVersion below R
with the ERROR 410 event kube-apiserver sends for a compacted version ("watches" and "gone"
are counted in the stats).
"""
import argparse
import http.client
import http.server
import json
import socket
import ssl
import threading
import time
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
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--ca")
    ap.add_argument("--client-cert")
    ap.add_argument("--client-key")
    ap.add_argument("--record")
    args = ap.parse_args()
    up = urllib.parse.urlsplit(args.upstream)
    only = {a for a in args.only_actions.split(",") if a}
    lock = threading.Lock()
    cond = threading.Condition(lock)
    stats = {"forwarded": 0, "throttled": 0, "errors": 0, "matching": 0, "held": 0,
             "held_total": 0, "watches": 0, "gone": 0, "cut": 0, "actions": {}}
    hold = {"on": False, "actions": set(), "epoch": 0, "drop": False}
    watch = {"refuse": False, "gone_below": 0}
    streams = set()  # sockets of responses being streamed (watches), for /fault-proxy/cut
    record_lock = threading.Lock()

    def record(entry):
        """Appends one JSON line to --record (flushed: a reader may look at any time)."""
        if not args.record:
            return
        line = json.dumps(entry, separators=(",", ":"), sort_keys=True) + "\n"
        with record_lock, open(args.record, "a") as f:
            f.write(line)

    def mutating(form, action):
        is_ec2 = (form.get("Version") or [""])[0] == "2016-11-15"
        return is_ec2 and action and not action.startswith(("Describe", "Get", "List"))

    def call_entry(form, action, status, t0, t1, faulted=False):
        params = {k: v[0] for k, v in form.items() if k not in ("Action", "Version")}
        entry = {"action": action, "params": params, "status": status, "t0": t0, "t1": t1}
        if faulted:
            entry["faulted"] = True
        return entry
    up_ctx = None
    if up.scheme == "https":
        up_ctx = ssl.create_default_context(cafile=args.ca)
        if args.client_cert:
            up_ctx.load_cert_chain(args.client_cert, args.client_key)

    def upstream_conn(timeout):
        if up_ctx:
            return http.client.HTTPSConnection(up.hostname, up.port, timeout=timeout,
                                               context=up_ctx)
        return http.client.HTTPConnection(up.hostname, up.port, timeout=timeout)

    def query(path):
        return urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)

    def control(handler, path):
        """Answers /fault-proxy/* requests; True when it was one."""
        q = query(path)
        name = urllib.parse.urlsplit(path).path
        with cond:
            if name == "/fault-proxy/hold":
                acts = (q.get("actions") or [""])[0]
                hold.update(on=True, actions={a for a in acts.split(",") if a}, drop=False)
            elif name == "/fault-proxy/release":
                hold.update(on=False, drop=(q.get("drop") or ["0"])[0] == "1")
                hold["epoch"] += 1
                cond.notify_all()
            elif name == "/fault-proxy/watch":
                watch["refuse"] = (q.get("refuse") or ["0"])[0] == "1"
                watch["gone_below"] = int((q.get("gone_below") or ["0"])[0])
            elif name == "/fault-proxy/mark":
                record({"mark": (q.get("name") or [""])[0], "t": time.monotonic()})
            elif name == "/fault-proxy/cut":
                for sock in list(streams):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    stats["cut"] += 1
            elif name != "/fault-proxy/stats":
                return False
            body = json.dumps(stats).encode()
        handler._reply(200, body, "application/json")
        return True

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
            if self.path.startswith("/fault-proxy/") and control(self, self.path):
                return
            if up_ctx:
                self._kube(body)
                return
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            action = (form.get("Action") or [""])[0]
            with cond:
                if hold["on"] and (not hold["actions"] or action in hold["actions"]):
                    stats["held"] += 1
                    stats["held_total"] += 1
                    epoch = hold["epoch"]
                    while hold["epoch"] == epoch:
                        cond.wait()
                    stats["held"] -= 1
                    if hold["drop"]:
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
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
            recorded = mutating(form, action)
            if fault:
                if recorded:
                    now = time.monotonic()
                    record(call_entry(form, action, fault[0], now, now, faulted=True))
                self._reply(*fault)
                return
            conn = upstream_conn(60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            t0 = time.monotonic()
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if recorded:
                record(call_entry(form, action, resp.status, t0, time.monotonic()))
            with lock:
                stats["forwarded"] += 1
                if action:
                    stats["actions"][action] = stats["actions"].get(action, 0) + 1
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        def _kube(self, body):
            """Relays one request to kube-apiserver, streaming the answer (watches)."""
            is_watch = (query(self.path).get("watch") or [""])[0] in ("true", "1")
            if is_watch:
                rv = (query(self.path).get("resourceVersion") or [""])[0]
                with lock:
                    stats["watches"] += 1
                    refuse = watch["refuse"]
                    gone = rv.isdigit() and int(rv) < watch["gone_below"]
                    if gone:
                        stats["gone"] += 1
                if refuse:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if gone:
                    ev = {"type": "ERROR", "object": {
                        "kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure", "reason": "Expired", "code": 410,
                        "message": "too old resource version: %s (%d)" % (
                            rv, watch["gone_below"])}}
                    self._reply(200, (json.dumps(ev) + "\n").encode(), "application/json")
                    return
            conn = upstream_conn(None if is_watch else 60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            with lock:
                stats["forwarded"] += 1
                streams.add(self.connection)
            try:
                while True:
                    data = resp.read1(65536)
                    if not data:
                        break
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                self.close_connection = True
            finally:
                with lock:
                    streams.discard(self.connection)
                conn.close()

        do_GET = _handle
        do_POST = _handle
        do_PUT = _handle
        do_PATCH = _handle
        do_DELETE = _handle

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if args.tls_cert:
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(args.tls_cert, args.tls_key)
        sctx.set_alpn_protocols(["http/1.1"])
        srv.socket = sctx.wrap_socket(srv.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
