#!/usr/bin/env python3
"""A loopback stand-in for the AWS credential APIs moto lacks, for the end-to-end tests.

It is a test stand-in, not an implementation: it exists because moto (5.2.1, the pinned
version) has no EC2 instance metadata service, no EKS Pod Identity agent, and an STS that
grants every AssumeRole. Every credential it serves is real for moto: it mints them with moto's
STS AssumeRole, so EC2 calls signed with them land in the role's account. Each part follows a
documented protocol:

1. IMDSv2 (EC2 User Guide, "Use the Instance Metadata Service to access instance metadata",
   and "Retrieve security credentials from instance metadata"):
   `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds: 1..21600` (else 400; a
   PUT carrying X-Forwarded-For is refused with 403, as IMDS does) answers a session token;
   `GET /latest/meta-data/iam/security-credentials/` answers the role name (--imds-role) and
   `GET /latest/meta-data/iam/security-credentials/<role>` the JSON document
   {"Code": "Success", "LastUpdated", "Type": "AWS-HMAC", "AccessKeyId", "SecretAccessKey",
   "Token", "Expiration"} (unknown role: 404). Every GET needs `X-aws-ec2-metadata-token` with
   a live token, else 401: IMDSv1 is refused, as on an instance with HttpTokens=required.
2. The EKS Pod Identity agent (EKS User Guide, "Pod Identity"; the SDKs' container credential
   provider): `GET /v1/credentials` with `Authorization` equal to the content of
   --pod-token-file (re-read on every request, as the projected token rotates) answers
   {"AccessKeyId", "SecretAccessKey", "Token", "AccountId", "Expiration"}; a missing or wrong
   token gets 401 with a JSON error {"Code", "Message"}.
3. An STS front (STS API Reference, Query API, version 2011-06-15) for CloudAccounts whose
   endpoints.sts points here: `POST /` with a form body. AssumeRole of a role in the trusted set
   (--trust, repeatable; --require-external-id ARN=ID also trusts ARN but only with that
   sts:ExternalId) is forwarded unchanged to moto; any other role gets HTTP 403 with the STS
   AccessDenied error document, as a trust policy that does not name the caller does. An
   unsigned AssumeRole gets 403 MissingAuthenticationToken as on AWS (moto would take it for an
   S3 ListBuckets). AssumeRoleWithWebIdentity is recorded (the token's sha256) and forwarded.
   The Expiration of both answers is rewritten to now + --expires-in. Other actions are
   forwarded unchanged.

Every Expiration is now + --expires-in seconds (default 120), so a client must refresh during a
test; IMDS and the agent mint fresh credentials for every credentials request. Tests read
`GET /standin/stats` (counters, of which imds_tokenless counts the IMDSv1 requests among
imds_unauthorized; the access key ids served per channel; the sha256 of the last and of every
distinct web-identity token received) and `GET /standin/served` (every credential served,
secrets included, so a test can check that none leaked into a log). It binds 127.0.0.1 only, on
a free port written to --port-file, and exits on SIGTERM.
"""
import argparse
import hashlib
import http.client
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
# moto routes a request by its SigV4 credential scope and does not check the signature: a dummy
# one for the service sts is enough (an unsigned AssumeRole would be taken for S3).
MOTO_AUTH = ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/sts/"
             "aws4_request, SignedHeaders=host, Signature=0")
TOKEN_TTL_MAX = 21600
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "content-length"}
ROLE_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::([0-9]{12}):")
EXPIRATION = re.compile(rb"<Expiration>[^<]*</Expiration>")
AKID = re.compile(r"Credential=([A-Za-z0-9]+)/")

args = None
lock = threading.Lock()
imds_tokens = {}  # token -> monotonic deadline
served = []  # every credential served: {"via", "AccessKeyId", "SecretAccessKey", "Token", ...}
stats = {
    "imds_tokens": 0, "imds_credentials": 0, "imds_unauthorized": 0, "imds_tokenless": 0,
    "pod_credentials": 0, "pod_unauthorized": 0,
    "sts_assume_role_denied": 0, "sts_assume_role_forwarded": 0, "sts_web_identity": 0,
    "sts_other_forwarded": 0, "last_web_identity_token_sha256": "",
    "web_identity_token_sha256s": [], "mint_errors": 0,
    "imds_access_key_ids": [], "pod_access_key_ids": [], "sts_access_key_ids": [],
}


def count(key, n=1):
    with lock:
        stats[key] += n


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def expiration():
    return iso(datetime.now(timezone.utc) + timedelta(seconds=args.expires_in))


def record(via, creds):
    with lock:
        served.append(dict(creds, via=via))
        stats[via + "_access_key_ids"].append(creds["AccessKeyId"])


def moto_call(method, headers, body):
    """One request to moto: (status, headers, body)."""
    up = urllib.parse.urlsplit(args.moto)
    conn = http.client.HTTPConnection(up.hostname, up.port or 80, timeout=15)
    try:
        conn.request(method, up.path or "/", body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def sts_text(root, path):
    """The text of the element at path (names in the STS namespace) under root, or ""."""
    node = root.find("/".join("{%s}%s" % (STS_NS, name) for name in path.split("/")))
    return node.text if node is not None and node.text else ""


def mint(role_arn, session):
    """Real moto credentials for the role: {"AccessKeyId", "SecretAccessKey", "Token",
    "AccountId", "Expiration"}; raises on failure."""
    body = urllib.parse.urlencode({"Action": "AssumeRole", "Version": "2011-06-15",
                                   "RoleArn": role_arn, "RoleSessionName": session}).encode()
    status, _, answer = moto_call("POST", {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Authorization": MOTO_AUTH}, body)
    if status != 200:
        raise RuntimeError("moto AssumeRole %s: HTTP %d %s" % (role_arn, status, answer[:300]))
    root = ET.fromstring(answer)
    c = "AssumeRoleResult/Credentials/"
    creds = {"AccessKeyId": sts_text(root, c + "AccessKeyId"),
             "SecretAccessKey": sts_text(root, c + "SecretAccessKey"),
             "Token": sts_text(root, c + "SessionToken")}
    if not all(creds.values()):
        raise RuntimeError("moto AssumeRole %s: no credentials in %s" % (role_arn, answer[:300]))
    m = ROLE_ACCOUNT.match(sts_text(root, "AssumeRoleResult/AssumedRoleUser/Arn") or role_arn)
    creds["AccountId"] = m.group(1) if m else ""
    creds["Expiration"] = expiration()
    return creds


def sts_error(code, message, kind="Sender"):
    return ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message>'
            '</Error><RequestId>%s</RequestId></ErrorResponse>'
            % (STS_NS, kind, code, xml_escape(message), uuid.uuid4())).encode()


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def caller_arn(authorization):
    """The ARN moto gives the caller's access key (what AWS names in AccessDenied)."""
    m = AKID.search(authorization or "")
    if not m:
        return "anonymous"
    auth = MOTO_AUTH.replace("AKIAIOSFODNN7EXAMPLE", m.group(1))
    try:
        status, _, answer = moto_call("POST", {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": auth}, b"Action=GetCallerIdentity&Version=2011-06-15")
        if status == 200:
            arn = sts_text(ET.fromstring(answer), "GetCallerIdentityResult/Arn")
            if arn:
                return arn
    except Exception:  # noqa: BLE001 - the message only loses its caller
        pass
    return "arn:aws:iam::123456789012:user/unknown"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def reply(self, status, body, ctype="text/plain", extra=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def reply_json(self, status, obj):
        self.reply(status, json.dumps(obj), "application/json")

    def body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # ------------------------------------------------------------------ IMDSv2

    def do_PUT(self):
        path = urllib.parse.urlsplit(self.path).path
        self.body()
        if path != "/latest/api/token":
            self.reply(404, "Not Found")
            return
        if self.headers.get("X-Forwarded-For") is not None:
            self.reply(403, "Forbidden")
            return
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not re.fullmatch(r"[0-9]{1,6}", ttl.strip()) or not 1 <= int(ttl) <= TOKEN_TTL_MAX:
            self.reply(400, "Bad Request")
            return
        token = secrets.token_urlsafe(42)
        with lock:
            now = time.monotonic()
            for t in [t for t, d in imds_tokens.items() if d <= now]:
                del imds_tokens[t]
            imds_tokens[token] = now + int(ttl)
            stats["imds_tokens"] += 1
        self.reply(200, token, extra=[("X-aws-ec2-metadata-token-ttl-seconds", str(int(ttl)))])

    def imds_get(self, path):
        token = self.headers.get("X-aws-ec2-metadata-token")
        with lock:
            live = token is not None and imds_tokens.get(token, 0) > time.monotonic()
            if not live:
                stats["imds_unauthorized"] += 1
                if token is None:
                    stats["imds_tokenless"] += 1  # an IMDSv1 request
        if not live:
            self.reply(401, "Unauthorized")
            return
        prefix = "/latest/meta-data/iam/security-credentials"
        if path in (prefix, prefix + "/"):
            self.reply(200, args.imds_role)
            return
        if not path.startswith(prefix + "/"):
            self.reply(404, "Not Found")
            return
        if path[len(prefix) + 1:] != args.imds_role:
            self.reply(404, "Not Found")
            return
        try:
            creds = mint(args.imds_role_arn, "i-0standin%08d" % len(served))
        except Exception as e:  # noqa: BLE001
            count("mint_errors")
            sys.stderr.write("imds: %s\n" % e)
            self.reply(500, "Internal Server Error")
            return
        record("imds", creds)
        count("imds_credentials")
        doc = {"Code": "Success", "LastUpdated": iso(datetime.now(timezone.utc)),
               "Type": "AWS-HMAC", "AccessKeyId": creds["AccessKeyId"],
               "SecretAccessKey": creds["SecretAccessKey"], "Token": creds["Token"],
               "Expiration": creds["Expiration"]}
        self.reply(200, json.dumps(doc, indent=2))

    # ------------------------------------------------------------------ Pod Identity agent

    def pod_credentials(self):
        want = None
        if args.pod_token_file:
            try:
                with open(args.pod_token_file, encoding="utf-8") as f:
                    want = f.read().strip()
            except OSError:
                want = None
        got = self.headers.get("Authorization")
        if not want or got is None or got.strip() != want:
            count("pod_unauthorized")
            self.reply_json(401, {"Code": "AccessDeniedException",
                                  "Message": "the Authorization header is missing or does not "
                                             "match the service account token"})
            return
        try:
            creds = mint(args.pod_role_arn, "eks-standin-pod-%d" % len(served))
        except Exception as e:  # noqa: BLE001
            count("mint_errors")
            sys.stderr.write("pod: %s\n" % e)
            self.reply_json(500, {"Code": "InternalError", "Message": "could not get credentials"})
            return
        record("pod", creds)
        count("pod_credentials")
        self.reply_json(200, creds)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/standin/stats":
            with lock:
                self.reply_json(200, json.loads(json.dumps(stats)))
            return
        if path == "/standin/served":
            with lock:
                self.reply_json(200, list(served))
            return
        if path == "/v1/credentials":
            self.pod_credentials()
            return
        if path.startswith("/latest/"):
            if path == "/latest/api/token":
                self.reply(405, "Method Not Allowed")
                return
            self.imds_get(path)
            return
        self.reply(404, "Not Found")

    # ------------------------------------------------------------------ STS front

    def do_POST(self):
        raw = self.body()
        split = urllib.parse.urlsplit(self.path)
        if split.path != "/":
            self.reply(404, "Not Found")
            return
        params = urllib.parse.parse_qs(split.query)
        params.update(urllib.parse.parse_qs(raw.decode("utf-8", "replace")))
        action = (params.get("Action") or [""])[0]
        role = (params.get("RoleArn") or [""])[0]
        if action == "AssumeRole":
            auth = self.headers.get("Authorization", "")
            if not auth and "X-Amz-Signature" not in params:
                self.reply(403, sts_error("MissingAuthenticationToken",
                                          "Request is missing Authentication Token"), "text/xml")
                return
            external_id = (params.get("ExternalId") or [None])[0]
            required = args.external_ids.get(role)
            if role not in args.trusted or (required is not None and external_id != required):
                count("sts_assume_role_denied")
                msg = ("User: %s is not authorized to perform: sts:AssumeRole on resource: %s"
                       % (caller_arn(auth), role))
                self.reply(403, sts_error("AccessDenied", msg), "text/xml")
                return
            count("sts_assume_role_forwarded")
            self.forward(raw, "AssumeRoleResult")
            return
        if action == "AssumeRoleWithWebIdentity":
            token = (params.get("WebIdentityToken") or [""])[0]
            with lock:
                stats["sts_web_identity"] += 1
                digest = hashlib.sha256(token.encode()).hexdigest()
                stats["last_web_identity_token_sha256"] = digest
                if digest not in stats["web_identity_token_sha256s"]:
                    stats["web_identity_token_sha256s"].append(digest)
            self.forward(raw, "AssumeRoleWithWebIdentityResult")
            return
        count("sts_other_forwarded")
        self.forward(raw, None)

    def forward(self, raw, result):
        """Forwards the request unchanged to moto; for an AssumeRole* answer (result names its
        result element) rewrites Expiration to now + --expires-in and records the keys."""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            status, rheaders, answer = moto_call(self.command, headers, raw)
        except Exception as e:  # noqa: BLE001
            sys.stderr.write("forward: %s\n" % e)
            self.reply(503, sts_error("ServiceUnavailable", "moto unreachable", "Receiver"),
                       "text/xml")
            return
        if result and status == 200:
            answer = EXPIRATION.sub(("<Expiration>%s</Expiration>" % expiration()).encode(),
                                    answer)
            try:
                root = ET.fromstring(answer)
                c = result + "/Credentials/"
                record("sts", {"AccessKeyId": sts_text(root, c + "AccessKeyId"),
                               "SecretAccessKey": sts_text(root, c + "SecretAccessKey"),
                               "Token": sts_text(root, c + "SessionToken"),
                               "Arn": sts_text(root, result + "/AssumedRoleUser/Arn")})
            except ET.ParseError:
                pass
        ctype = next((v for k, v in rheaders if k.lower() == "content-type"), "text/xml")
        self.reply(status, answer, ctype,
                   [(k, v) for k, v in rheaders if k.lower() == "x-amzn-requestid"])


def main():
    global args
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--moto", required=True, help="moto's endpoint, e.g. http://127.0.0.1:5000")
    ap.add_argument("--expires-in", type=int, default=120)
    ap.add_argument("--imds-role", default="node")
    ap.add_argument("--imds-role-arn", default="arn:aws:iam::222222222222:role/node")
    ap.add_argument("--pod-role-arn", default="arn:aws:iam::333333333333:role/pod")
    ap.add_argument("--pod-token-file")
    ap.add_argument("--trust", action="append", default=[], metavar="ROLE_ARN")
    ap.add_argument("--require-external-id", action="append", default=[],
                    metavar="ROLE_ARN=EXTERNAL_ID")
    args = ap.parse_args()
    args.trusted = set(args.trust)
    args.external_ids = {}
    for spec in args.require_external_id:
        arn, sep, ext = spec.partition("=")
        if not sep or not arn or not ext:
            ap.error("--require-external-id wants ROLE_ARN=EXTERNAL_ID")
        args.external_ids[arn] = ext
        args.trusted.add(arn)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.block_on_close = False  # SIGTERM: do not wait for idle keep-alive connections
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
