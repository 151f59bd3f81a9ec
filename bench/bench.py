#!/usr/bin/env python3
"""Helpers for bench/run.sh: each subcommand drives one measurement against the real servers
(kubectl for the Kubernetes side, botocore -- or the aws CLI when botocore cannot be imported --
for moto) and the running controller (/proc/<pid> for CPU and memory, its /metrics for
counters). Figures go out as one JSON line each, on stdout and appended to $BENCH_RESULTS;
human progress goes to stderr. Every wait has a deadline: a step that times out exits non-zero
with a message saying what it was waiting for.

Python 3 standard library only, plus botocore when present (it ships with the aws CLI).
"""
import argparse
import datetime
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

CLK_TCK = os.sysconf("SC_CLK_TCK")
SGP_KIND = 'kind="SecurityGroupPosture"'
DESCRIBE = 'action="DescribeSecurityGroups"'


# ---------------------------------------------------------------- output and failure

def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def die(msg):
    print("bench: ERROR: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def emit(obj):
    """One figure: a JSON line on stdout and in the results file."""
    line = json.dumps(obj, separators=(",", ":"))
    print(line, flush=True)
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def rnd(x, digits=3):
    return None if x is None else round(x, digits)


class Deadline:
    def __init__(self, seconds, what):
        self.end = time.monotonic() + seconds
        self.seconds = seconds
        self.what = what

    def check(self, detail=""):
        if time.monotonic() >= self.end:
            die("timed out after %ss waiting for %s%s" % (self.seconds, self.what,
                                                          (": " + detail) if detail else ""))


# ---------------------------------------------------------------- the controller process

def proc_cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        die("controller (pid %d) is not running" % pid)
    fields = stat[stat.rindex(")") + 2:].split()  # the name may hold spaces and parentheses
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def proc_status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def pid_from_file(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def cpu_or_none(pid):
    if pid is None or not os.path.exists("/proc/%d" % pid):
        return None
    return proc_cpu_seconds(pid)


# ---------------------------------------------------------------- metrics

def scrape(port):
    """The controller's /metrics as a list of (name, labels-text, value)."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, val = line.rpartition(" ")
        name, _, labels = key.partition("{")
        try:
            out.append((name, labels, float(val)))
        except ValueError:
            pass
    return out


def msum(samples, name, *filters):
    return sum(v for n, l, v in samples if n == name and all(f in l for f in filters))


def metric(port, name, *filters):
    return msum(scrape(port), name, *filters)


def aws_calls_delta(before, after):
    """{action: calls} made between two scrapes."""
    out = {}
    for sign, samples in ((-1, before), (1, after)):
        for n, l, v in samples:
            if n == "netposture_aws_requests_total":
                action = l.split('action="', 1)[1].split('"', 1)[0] if 'action="' in l else "?"
                out[action] = out.get(action, 0) + sign * v
    return {k: int(v) for k, v in sorted(out.items()) if v}


def reconciles(samples):
    return msum(samples, "netposture_reconcile_total", SGP_KIND)


def wait_quiet(port, pid, timeout, min_reconciles=0, quiet_s=3.0, all_ready=False):
    """Waits until at least min_reconciles posture reconciles happened and the reconcile counter
    has not moved for quiet_s seconds (3 x quiet_s while the workqueue depth gauge, read at
    scrape time, is non-zero); with all_ready, also until every posture of the process's shard
    has finished a pass Ready (netposture_posture_ready sums to netposture_shard_postures):
    reconciles parked while a region's first poll runs are quiet too."""
    dl = Deadline(timeout, "the controller to go quiet (no reconciles for %ss)" % quiet_s)
    last, since = None, time.monotonic()
    while True:
        proc_cpu_seconds(pid)  # dies if the controller is gone
        s = scrape(port)
        rec = reconciles(s)
        depth = msum(s, "netposture_workqueue_depth")
        now = time.monotonic()
        if rec != last:
            last, since = rec, now
        elif (rec >= min_reconciles and now - since >= (quiet_s if depth == 0 else 3 * quiet_s)
              and (not all_ready or msum(s, "netposture_posture_ready")
                   >= msum(s, "netposture_shard_postures") > 0)):
            return rec, since
        dl.check("reconciles=%d (want >= %d), workqueue depth gauge=%d"
                 % (rec, min_reconciles, depth))
        time.sleep(0.5)


# ---------------------------------------------------------------- kubectl

def kubectl(*args, stdin=None, check=True):
    p = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True)
    if check and p.returncode != 0:
        die("kubectl %s failed: %s" % (" ".join(args[:4]), p.stderr.strip()[:2000]))
    return p.stdout


# Regions a scale run spreads its postures over (--regions K takes the first K): moto keeps the
# groups of each account and region in one list and scans it on every Describe and Create, so
# one region's cost grows with the square of its groups; real fleets span regions too.
REGIONS = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
           "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
           "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1")


def posture_yaml(ns, i, regions=1):
    """A small posture: one or two ingress rules, its own group name; with regions > 1 the
    postures go round-robin over the first `regions` of REGIONS (else the account's region)."""
    name = "p%05d" % i
    rules = ['  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/8"], '
             'description: https}']
    if i % 2:
        rules.append('  - {protocol: udp, fromPort: 53, toPort: 53, cidrs: ["10.%d.0.0/16"]}'
                     % (i % 250))
    region = "  region: %s\n" % REGIONS[i % regions] if regions > 1 else ""
    return ("apiVersion: netposture.dev/v1alpha1\nkind: SecurityGroupPosture\n"
            "metadata: {name: %s, namespace: %s}\nspec:\n%s  groupName: bench-%s-%s\n"
            "  description: netposture benchmark\n  tags: {bench: \"true\"}\n  ingress:\n%s\n"
            % (name, ns, region, ns, name, "\n".join(rules)))


def ready_count(ns):
    out = kubectl("get", "sgp", "-n", ns, "-o",
                  'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}'
                  '{"\\n"}{end}')
    return sum(1 for line in out.splitlines() if line.strip() == "True")


# ---------------------------------------------------------------- AWS (moto)

class Aws:
    """The few EC2 and SQS calls the benchmark makes: botocore, else the aws CLI."""

    def __init__(self):
        self.endpoint = os.environ["AWS_ENDPOINT_URL"]
        self.region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        try:
            if os.environ.get("BENCH_AWS_CLI"):
                raise ImportError("BENCH_AWS_CLI is set")
            import botocore.session
            from botocore.config import Config
            s = botocore.session.get_session()
            cfg = Config(retries={"max_attempts": 2, "mode": "standard"},
                         connect_timeout=5, read_timeout=30)
            kw = dict(region_name=self.region, endpoint_url=self.endpoint, config=cfg,
                      aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
            self.ec2 = s.create_client("ec2", **kw)
            self.sqs = s.create_client("sqs", **kw)
            self.via = "botocore"
        except ImportError:
            self.ec2 = self.sqs = None
            self.via = "aws-cli"
            log("botocore cannot be imported: using the aws CLI (observation gets coarser)")

    def _cli(self, *args):
        p = subprocess.run(["aws", "--output", "json", "--endpoint-url", self.endpoint, *args],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("aws %s: %s" % (" ".join(args[:2]), p.stderr.strip()))
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def describe(self, group_ids):
        """{group_id: group} for the given ids, in one call filtered on them."""
        flt = [{"Name": "group-id", "Values": list(group_ids)}]
        if self.ec2:
            r = self.ec2.describe_security_groups(Filters=flt)
        else:
            r = self._cli("ec2", "describe-security-groups", "--filters",
                          "Name=group-id,Values=" + ",".join(group_ids))
        return {g["GroupId"]: g for g in r.get("SecurityGroups", [])}

    def describe_managed(self):
        """The poller's read: every group carrying the ownership tag; returns the count."""
        flt = [{"Name": "tag-key", "Values": ["netposture.dev/owner"]}]
        if self.ec2:
            r = self.ec2.describe_security_groups(Filters=flt)
        else:
            r = self._cli("ec2", "describe-security-groups", "--filters",
                          "Name=tag-key,Values=netposture.dev/owner")
        return len(r.get("SecurityGroups", []))

    def authorize_ssh_world(self, gid):
        perm = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                 "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        if self.ec2:
            self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=perm)
        else:
            self._cli("ec2", "authorize-security-group-ingress", "--group-id", gid,
                      "--ip-permissions", json.dumps(perm))

    def create_queue(self, name):
        if self.sqs:
            return self.sqs.create_queue(QueueName=name)["QueueUrl"]
        return self._cli("sqs", "create-queue", "--queue-name", name)["QueueUrl"]

    def send(self, url, body):
        if self.sqs:
            self.sqs.send_message(QueueUrl=url, MessageBody=body)
        else:
            self._cli("sqs", "send-message", "--queue-url", url, "--message-body", body)


def has_ssh_world(group):
    for p in group.get("IpPermissions", []):
        if p.get("IpProtocol") in ("tcp", "6") and p.get("FromPort") == 22 \
                and p.get("ToPort") == 22 \
                and any(r.get("CidrIp") == "0.0.0.0/0" for r in p.get("IpRanges", [])):
            return True
    return False


def cloudtrail_envelope(gid, event_name="AuthorizeSecurityGroupIngress", account="123456789012",
                        region="us-east-1"):
    """An EventBridge envelope of a CloudTrail EC2 call, as the SQS queue would receive it.

    eventTime carries milliseconds, so the controller's time-to-detect from it is as fine as the
    stopwatch it is compared with.
    """
    t = time.time()
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)
    return json.dumps({
        "version": "0", "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
        "account": account, "time": now, "region": region, "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser",
                             "arn": "arn:aws:iam::%s:user/bench" % account},
            "eventTime": now, "eventSource": "ec2.amazonaws.com", "eventName": event_name,
            "awsRegion": region, "requestParameters": {"groupId": gid},
            "responseElements": None, "eventID": str(uuid.uuid4()),
        },
    })


def percentile(sorted_xs, p):
    """Nearest-rank percentile (with 20 samples, p99 is the maximum)."""
    if not sorted_xs:
        return None
    k = max(1, math.ceil(p / 100.0 * len(sorted_xs)))
    return sorted_xs[k - 1]


# ---------------------------------------------------------------- drift histograms

DRIFT_HISTOGRAMS = {"ttd": "netposture_drift_time_to_detect_seconds",
                    "ttr": "netposture_drift_time_to_remediate_seconds"}


def drift_histograms(port, source):
    """{"ttd"|"ttr": {"count", "sum", "buckets": {le: cumulative count}}} of the controller's
    SecurityGroupPosture drift histograms with this source label."""
    samples = scrape(port)
    flt = ('kind="SecurityGroupPosture"', 'source="%s"' % source)
    out = {}
    for key, name in DRIFT_HISTOGRAMS.items():
        buckets = {}
        for n, labels, v in samples:
            if n == name + "_bucket" and all(f in labels for f in flt):
                le = re.search(r'le="([^"]+)"', labels).group(1)
                buckets[float(le)] = v
        out[key] = {"count": msum(samples, name + "_count", *flt),
                    "sum": msum(samples, name + "_sum", *flt), "buckets": buckets}
    return out


def histogram_delta(before, after):
    """The observations made between two readings of one histogram."""
    return {"count": after["count"] - before["count"], "sum": after["sum"] - before["sum"],
            "buckets": {le: v - before["buckets"].get(le, 0)
                        for le, v in after["buckets"].items()}}


def bucket_bound(h, p):
    """The upper bound of the bucket holding the p-th percentile (nearest rank), or None."""
    if h["count"] <= 0:
        return None
    rank = max(1, math.ceil(p / 100.0 * h["count"]))
    for le in sorted(h["buckets"]):
        if h["buckets"][le] >= rank:
            return le
    return None


def histogram_figures(h):
    mean = h["sum"] / h["count"] if h["count"] > 0 else None
    return {"samples": int(h["count"]), "mean": rnd(mean, 3),
            "p50_le": bucket_bound(h, 50), "p99_le": bucket_bound(h, 99)}


def cross_check(mode, stopwatch_mean, ttd, ttr, resolution):
    """Whether the histograms agree with the stopwatch, within the bench's resolution.

    event: the change time is known (eventTime), so time-to-detect plus time-to-remediate is
    the stopwatch's figure, up to the observation's lag. polling: time-to-detect is only an
    upper bound (from the poll before), so the stopwatch must lie between time-to-remediate and
    the two together.
    """
    if ttd["mean"] is None or ttr["mean"] is None:
        return False, None, None
    total = ttd["mean"] + ttr["mean"]
    if mode == "event":
        low, high = total - resolution, total + resolution
    else:
        low, high = ttr["mean"] - resolution, total + resolution
    return low <= stopwatch_mean <= high, rnd(low, 3), rnd(high, 3)


def wait_repairs_timed(port, source, before, m, timeout):
    """Waits until the controller timed m more repairs from this source; returns the delta."""
    dl = Deadline(timeout, "%d repairs in netposture_drift_time_to_remediate_seconds" % m)
    while True:
        now = drift_histograms(port, source)
        if now["ttr"]["count"] - before["ttr"]["count"] >= m:
            return {k: histogram_delta(before[k], now[k]) for k in DRIFT_HISTOGRAMS}
        dl.check("%d timed" % (now["ttr"]["count"] - before["ttr"]["count"]))
        time.sleep(0.2)


# ---------------------------------------------------------------- subcommands

def cmd_wait_metrics(a):
    dl = Deadline(a.timeout, "the controller's /metrics on port %d" % a.port)
    while True:
        proc_cpu_seconds(a.pid)
        try:
            scrape(a.port)
            return
        except OSError:
            pass
        dl.check()
        time.sleep(0.2)


def cmd_wait_metric(a):
    dl = Deadline(a.timeout, "%s >= %s on port %d" % (a.name, a.at_least, a.port))
    while True:
        proc_cpu_seconds(a.pid)
        v = msum(scrape(a.port), a.name)
        if v >= a.at_least:
            return
        dl.check("%s = %s" % (a.name, v))
        time.sleep(0.5)


def cmd_cold_start(a):
    """Applies N postures at once and waits until every one is Ready=True."""
    if not 1 <= a.regions <= len(REGIONS):
        die("--regions: 1 to %d" % len(REGIONS))
    docs = [posture_yaml(a.ns, i, a.regions) for i in range(a.n)]
    chunks = [docs[i:i + a.chunk] for i in range(0, len(docs), a.chunk)]
    files = []
    for c in chunks:
        f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False, dir=a.workdir)
        f.write("---\n".join(c))
        f.close()
        files.append(f.name)
    moto_pid, api_pid = pid_from_file(a.moto_pidfile), pid_from_file(a.apiserver_pidfile)
    moto0, api0 = cpu_or_none(moto_pid), cpu_or_none(api_pid)
    aws0 = scrape(a.port)
    cpu0 = proc_cpu_seconds(a.pid)
    t0 = time.monotonic()
    log("cold start: applying %d postures in %d chunk(s), %d at a time"
        % (a.n, len(files), a.parallel))
    # kubectl applies the documents of a file one by one; a few files run side by side.
    pending, running, apply_end = list(files), [], None
    dl = Deadline(a.timeout, "%d postures to be Ready" % a.n)
    next_poll, ready, t_half, t_first, logged = t0, 0, None, None, -1
    while True:
        while pending and len(running) < a.parallel:
            f = pending.pop(0)
            running.append((f, subprocess.Popen(
                ["kubectl", "apply", "--server-side", "--field-manager=bench", "-f", f],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)))
        for f, p in list(running):
            if p.poll() is not None:
                if p.returncode != 0:
                    die("kubectl apply -f %s failed: %s" % (f, p.stderr.read()[:2000]))
                running.remove((f, p))
        if not pending and not running and apply_end is None:
            apply_end = time.monotonic()
            log("cold start: applied in %.1fs" % (apply_end - t0))
        now = time.monotonic()
        if now >= next_poll:
            # The controller's own count (its /metrics: cheap at any N) every half second; a
            # list call (one per 1,000 postures a second at most) only to confirm it.
            next_poll = now + 0.5
            ready = int(msum(scrape(a.port), "netposture_posture_ready"))
            if ready >= a.n and apply_end is not None:
                ready = ready_count(a.ns)
                next_poll = now + max(1.0, a.n / 1000.0)
            t = time.monotonic() - t0
            if ready and t_first is None:
                t_first = t
            if ready * 2 >= a.n and t_half is None:
                t_half = t
            if ready >= a.n and apply_end is not None:
                break
            if int(t) // 10 != logged:
                logged = int(t) // 10
                log("cold start: %d/%d Ready after %.0fs" % (ready, a.n, t))
        dl.check("%d/%d Ready" % (ready, a.n))
        time.sleep(0.05)
    t1 = time.monotonic()
    cpu1 = proc_cpu_seconds(a.pid)
    aws1 = scrape(a.port)
    wall = t1 - t0
    cpu = cpu1 - cpu0
    for f in files:
        os.unlink(f)
    moto1, api1 = cpu_or_none(moto_pid), cpu_or_none(api_pid)
    emit({"bench": a.name, "n": a.n, "seconds": rnd(wall, 2),
          "controller_cpu_seconds": rnd(cpu, 2), "cpu_share": rnd(cpu / wall, 3),
          "target_cpu_share": 0.20,
          "apply_seconds": rnd(apply_end - t0, 2), "first_ready_s": rnd(t_first, 2),
          "half_ready_s": rnd(t_half, 2),
          "moto_cpu_seconds": rnd(moto1 - moto0, 2) if moto0 is not None and moto1 else None,
          "apiserver_cpu_seconds": rnd(api1 - api0, 2) if api0 is not None and api1 else None,
          "aws_calls": aws_calls_delta(aws0, aws1),
          "workers": a.workers, "regions": a.regions})


def proc_age_seconds(pid):
    """Seconds since the process started (stat(5) field 22 against the boot-time clock)."""
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    start = int(stat[stat.rindex(")") + 2:].split()[19]) / CLK_TCK
    return time.clock_gettime(time.CLOCK_BOOTTIME) - start


def cmd_settle(a):
    """Waits for the controller to go quiet; with --emit-restart, reports how a controller
    started on N existing postures got there: seconds from process start to its last reconcile,
    reconciles, AWS calls by action, CPU seconds."""
    rec, since = wait_quiet(a.port, a.pid, a.timeout, a.min_reconciles, all_ready=a.all_ready)
    log("controller quiet after %d posture reconciles" % rec)
    if a.emit_restart:
        age = proc_age_seconds(a.pid) - (time.monotonic() - since)
        if a.since_epoch:  # from that instant (a kill) instead of the process start
            age = time.time() - (time.monotonic() - since) - a.since_epoch
        line = {"bench": a.name, "n": a.n}
        for label in a.label:  # k=v, numbers as numbers
            k, _, v = label.partition("=")
            line[k] = int(v) if v.isdigit() else v
        line.update({"seconds": rnd(age, 2), "reconciles": int(rec),
                     "controller_cpu_seconds": rnd(proc_cpu_seconds(a.pid), 2),
                     "aws_calls": aws_calls_delta([], scrape(a.port)),
                     "hwm_mib": rnd(proc_status_kib(a.pid, "VmHWM") / 1024, 1)})
        emit(line)


def cmd_steady(a):
    """Describe calls per resync, counted between poll bursts.

    Samples the DescribeSecurityGroups counter every 100 ms. A burst starts with the first
    increase at least 0.8 x resync after the previous burst's start (polls are at least one
    resync apart; a paginated poll's pages come back to back). The first burst seen may be cut,
    so the calls are counted from just before burst 1 to just before burst K+1 and divided by K.
    Reconcile-issued Describes in between, if any, are counted too: they are reads per resync.
    """
    dl = Deadline(a.timeout, "%d poller resyncs (DescribeSecurityGroups bursts)" % (a.k + 2))
    starts = []  # (t, count before, cpu at that sample) of each burst
    prev_t, prev_c, prev_cpu = None, None, None
    while len(starts) < a.k + 2:
        t = time.monotonic()
        c = metric(a.port, "netposture_aws_requests_total", DESCRIBE)
        cpu = proc_cpu_seconds(a.pid)
        if prev_c is not None and c > prev_c and \
                (not starts or t - starts[-1][0] >= 0.8 * a.resync):
            starts.append((prev_t, prev_c, prev_cpu))
            log("steady: resync burst %d seen" % len(starts))
        prev_t, prev_c, prev_cpu = t, c, cpu
        dl.check("%d bursts seen" % len(starts))
        time.sleep(0.1)
    (ta, ca, cpua), (tb, cb, cpub) = starts[1], starts[a.k + 1]
    per = (cb - ca) / a.k
    period = (tb - ta) / a.k
    idle_rate = (cpub - cpua) / (tb - ta)
    target = math.ceil(a.n / 1000) + 1
    # How long the endpoint takes to answer the poller's call (tag-key filter, all groups): the
    # poller waits a resync after each poll ends, so its period is about resync x 1.05 + this.
    aws = Aws()
    tl = time.monotonic()
    listed = aws.describe_managed()
    latency = time.monotonic() - tl
    emit({"bench": "describe_calls_per_resync", "n": a.n, "value": rnd(per, 2),
          "target": target, "resyncs": a.k, "resync_s": a.resync,
          "observed_period_s": rnd(period, 2), "endpoint_describe_all_s": rnd(latency, 2),
          "groups_listed": listed,
          "cpu_seconds_per_resync": rnd(idle_rate * period, 3),
          "idle_cpu_share": rnd(idle_rate, 4)})
    with open(a.idle_out, "w") as f:
        json.dump({"idle_cpu_rate": idle_rate}, f)


def cmd_noop(a):
    """CPU per 1,000 no-op reconciles.

    Each round touches an annotation on the CloudAccount "default": the controller requeues
    every posture of the account, and each reconcile finds nothing to do (no AWS call, no status
    write). The controller's CPU over the rounds, minus its idle rate (the poller and /metrics
    scrapes, measured in the steady-state step), is divided by the posture reconciles counted
    by netposture_reconcile_total.
    """
    with open(a.idle_in) as f:
        idle_rate = json.load(f)["idle_cpu_rate"]
    rounds = a.rounds or max(2, math.ceil(a.min_reconciles / a.n))
    s0 = scrape(a.port)
    rec0 = reconciles(s0)
    ok0 = msum(s0, "netposture_reconcile_total", SGP_KIND, 'result="success"')
    cpu0, t0 = proc_cpu_seconds(a.pid), time.monotonic()
    rec = rec0
    for i in range(rounds):
        kubectl("annotate", "cloudaccount", "default", "--overwrite",
                "bench.netposture.dev/touch=%d-%d" % (os.getpid(), i))
        want = rec + a.n
        dl = Deadline(a.round_timeout, "round %d: %d more posture reconciles" % (i + 1, a.n))
        while True:
            s = scrape(a.port)
            rec = reconciles(s)
            if rec >= want:
                break
            dl.check("%d of %d" % (rec - (want - a.n), a.n))
            time.sleep(0.05)
    cpu1, t1 = proc_cpu_seconds(a.pid), time.monotonic()
    s1 = scrape(a.port)
    count = reconciles(s1) - rec0
    ok = msum(s1, "netposture_reconcile_total", SGP_KIND, 'result="success"') - ok0
    raw = cpu1 - cpu0
    net = max(0.0, raw - idle_rate * (t1 - t0))
    emit({"bench": "cpu_per_1000_noop_reconciles", "n": a.n,
          "value": rnd(net / count * 1000, 4), "raw_value": rnd(raw / count * 1000, 4),
          "target": 0.5, "reconciles": int(count), "successful": int(ok), "rounds": rounds,
          "seconds": rnd(t1 - t0, 2), "controller_cpu_seconds": rnd(raw, 3),
          "idle_cpu_seconds_subtracted": rnd(idle_rate * (t1 - t0), 3),
          "aws_calls": aws_calls_delta(s0, s1),
          "method": "annotate CloudAccount default -> every posture requeued; CPU minus the "
                    "steady-state idle rate, per reconcile counted by netposture_reconcile_total"})


def cmd_pick_groups(a):
    out = kubectl("get", "sgp", "-n", a.ns, "-o",
                  'jsonpath={range .items[*]}{.status.groupId}{"\\n"}{end}')
    ids = [x.strip() for x in out.splitlines() if x.strip().startswith("sg-")]
    if len(ids) < a.count:
        die("only %d postures have a groupId, need %d" % (len(ids), a.count))
    random.Random(a.seed).shuffle(ids)
    with open(a.out, "w") as f:
        f.write("\n".join(ids[:a.count]) + "\n")


def cmd_mttr(a):
    """Drift time-to-remediate: tcp 22 0.0.0.0/0 put on M groups at spread times.

    Injection i happens at a random offset within `spread` seconds (so injections land at random
    phases of the poll cycle); its time is taken when AuthorizeSecurityGroupIngress returns. In
    event mode a CloudTrail-shaped EventBridge envelope naming the group goes to the SQS queue
    right after. One DescribeSecurityGroups filtered on the still-drifted group ids runs every
    `interval` seconds; a sample ends at the response that no longer shows the rule (an upper
    bound, coarse by about one interval).

    The same repairs are read from the controller's drift histograms (time-to-detect and
    time-to-remediate, source "poll" or "event") and cross-checked against the stopwatch within
    its resolution: the observation interval plus the slowest observing Describe.
    """
    aws = Aws()
    with open(a.groups) as f:
        ids = [x.strip() for x in f if x.strip()][a.offset:a.offset + a.m]
    if len(ids) < a.m:
        die("not enough groups in %s for %d samples" % (a.groups, a.m))
    rng = random.Random(a.seed)
    spread = a.spread if a.spread is not None else 2 * a.resync
    schedule = sorted((rng.uniform(0, spread), gid) for gid in ids)
    # The groups must be clean before anything is injected.
    dirty = [g for g, sg in aws.describe(ids).items() if has_ssh_world(sg)]
    if dirty:
        die("groups already carry tcp 22 0.0.0.0/0 before injection: %s" % dirty)
    rem0 = metric(a.port, "netposture_remediations_total")
    source = "event" if a.mode == "event" else "poll"
    hist0 = drift_histograms(a.port, source)
    slowest_describe = 0.0
    log("mttr %s: %d injections over %.1fs, observing every %.0f ms (via %s)"
        % (a.mode, a.m, spread, a.interval * 1000, aws.via))
    injected, done = {}, {}
    t0 = time.monotonic()
    dl = Deadline(spread + a.sample_timeout + 10, "%d drift repairs (%s)" % (a.m, a.mode))
    while len(done) < a.m:
        now = time.monotonic()
        while schedule and now - t0 >= schedule[0][0]:
            _, gid = schedule.pop(0)
            aws.authorize_ssh_world(gid)
            injected[gid] = time.monotonic()
            if a.mode == "event":
                aws.send(a.queue_url, cloudtrail_envelope(gid))
            now = time.monotonic()
        pending = [g for g in injected if g not in done]
        if pending:
            asked = time.monotonic()
            groups = aws.describe(pending)
            t = time.monotonic()
            slowest_describe = max(slowest_describe, t - asked)
            for g in pending:
                if g in groups and not has_ssh_world(groups[g]):
                    done[g] = t - injected[g]
                    log("mttr %s: %s repaired after %.2fs (%d/%d)"
                        % (a.mode, g, done[g], len(done), a.m))
                elif g not in groups:
                    die("group %s vanished during the drift benchmark" % g)
                elif t - injected[g] > a.sample_timeout:
                    die("drift on %s not repaired within %ss (%s mode, resync %ss)"
                        % (g, a.sample_timeout, a.mode, a.resync))
        dl.check("%d/%d repaired" % (len(done), a.m))
        proc_cpu_seconds(a.pid)
        time.sleep(a.interval)
    xs = sorted(done.values())
    hist = wait_repairs_timed(a.port, source, hist0, a.m, a.sample_timeout)
    ttd, ttr = histogram_figures(hist["ttd"]), histogram_figures(hist["ttr"])
    resolution = a.interval + slowest_describe
    agree, low, high = cross_check(a.mode, sum(xs) / len(xs), ttd, ttr, resolution)
    rec = {"bench": "mttr_" + a.mode, "n": a.n, "p50": rnd(percentile(xs, 50), 2),
           "p99": rnd(percentile(xs, 99), 2), "max": rnd(xs[-1], 2),
           "mean": rnd(sum(xs) / len(xs), 2), "min": rnd(xs[0], 2), "resync_s": a.resync,
           "samples": len(xs), "observe_interval_s": a.interval,
           "remediations": int(metric(a.port, "netposture_remediations_total") - rem0),
           "histograms": {"source": source, "time_to_detect": ttd, "time_to_remediate": ttr,
                          "mean_ttd_plus_ttr": rnd(ttd["mean"] + ttr["mean"], 3)
                          if ttd["mean"] is not None and ttr["mean"] is not None else None,
                          "stopwatch_mean_expected_in": [low, high],
                          "resolution_s": rnd(resolution, 3), "agree": agree}}
    rec["target_p99"] = a.resync + 2 if a.mode == "polling" else 2
    emit(rec)
    if not agree:
        die("mttr %s: the stopwatch's mean %.3fs is outside [%s, %s] from the controller's "
            "histograms (time-to-detect %s, time-to-remediate %s)"
            % (a.mode, sum(xs) / len(xs), low, high, ttd, ttr))


def cmd_create_queue(a):
    print(Aws().create_queue(a.name))


def cmd_event_probe(a):
    """Exit 0 if the controller receives from SQS (a ReceiveMessage in its AWS request metric).

    A probe envelope for a group nobody manages makes a long poll return at once, so a consumer
    shows up in the counter without waiting out a 20 s long poll.
    """
    Aws().send(a.queue_url, cloudtrail_envelope("sg-0000000000bench0"))
    end = time.monotonic() + a.timeout
    while time.monotonic() < end:
        proc_cpu_seconds(a.pid)
        if metric(a.port, "netposture_aws_requests_total", "ReceiveMessage") > 0:
            sys.exit(0)
        time.sleep(0.5)
    sys.exit(1)


def cmd_emit(a):
    """Emits a JSON object given as an argument (for figures computed in run.sh)."""
    emit(json.loads(a.json))


def cmd_gap_summary(a):
    """One figure from tests/e2e/wire_gap.py run's lines: the max gap over the cases."""
    cases = []
    with open(a.file) as f:
        cases = [json.loads(line) for line in f if line.strip()]
    if not cases:
        die("no reachability gap case finished (%s)" % a.file)
    emit({"bench": "reachability_gap_s", "n": a.n, "copies": a.copies,
          "value": max(c["gap_s"] for c in cases),
          "cases": {c["case"]: c["gap_s"] for c in cases},
          "all_ok": all(c["ok"] for c in cases),
          "failures": {c["case"]: c["why"] for c in cases if not c["ok"]},
          "flows_both": sum(c["flows_both"] for c in cases),
          "mutating_calls": sum(len(c["calls"]) for c in cases),
          "converge_s_max": max(c["converge_s"] for c in cases), "target": 0})


def lease_spec(ns, name):
    out = kubectl("get", "lease", name, "-n", ns, "-o", "json", check=False)
    try:
        return json.loads(out).get("spec", {}) if out.strip() else {}
    except ValueError:
        return {}


def rfc3339_micro(text):
    """Seconds since the epoch of a Lease MicroTime (2026-12-03T07:01:02.123456Z)."""
    t = datetime.datetime.strptime(text.rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def cmd_lease_holder(a):
    """Waits until the Lease is held (by someone other than --not, when given); prints the
    holder."""
    dl = Deadline(a.timeout, "Lease %s/%s held" % (a.namespace, a.lease))
    while True:
        h = lease_spec(a.namespace, a.lease).get("holderIdentity", "")
        if h and h != a.not_:
            print(h)
            return
        dl.check("holder %r" % h)
        time.sleep(0.2)


def cmd_takeover(a):
    """Emits how long after --since (epoch seconds: the kill or SIGTERM) another process
    acquired the Lease, from the Lease's own acquireTime (written on this machine's clock)."""
    dl = Deadline(a.timeout, "another holder of Lease %s/%s" % (a.namespace, a.lease))
    while True:
        spec = lease_spec(a.namespace, a.lease)
        h = spec.get("holderIdentity", "")
        if h and h != a.old and spec.get("acquireTime"):
            break
        dl.check("holder %r" % h)
        time.sleep(0.25)
    took = rfc3339_micro(spec["acquireTime"]) - a.since
    emit({"bench": a.name, "n": a.n, "seconds": rnd(took, 3), "target_s": a.target,
          "lease_duration_s": a.lease_duration, "retry_period_s": a.retry,
          "transitions": spec.get("leaseTransitions")})


def cmd_hwm(a):
    """Prints VmHWM and VmRSS of a process in MiB, as JSON."""
    print(json.dumps({"hwm_mib": rnd(proc_status_kib(a.pid, "VmHWM") / 1024, 1),
                      "rss_mib": rnd(proc_status_kib(a.pid, "VmRSS") / 1024, 1)}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def add(name, fn, *args):
        sp = sub.add_parser(name)
        sp.set_defaults(fn=fn)
        for flag, kw in args:
            sp.add_argument(flag, **kw)
        return sp

    PID = ("--pid", dict(type=int, required=True))
    PORT = ("--port", dict(type=int, required=True))
    N = ("--n", dict(type=int, required=True))
    TIMEOUT = ("--timeout", dict(type=float, required=True))
    add("wait-metrics", cmd_wait_metrics, PID, PORT, TIMEOUT)
    add("wait-metric", cmd_wait_metric, PID, PORT, TIMEOUT, ("--name", dict(required=True)),
        ("--at-least", dict(type=float, required=True)))
    add("cold-start", cmd_cold_start, PID, PORT, N, TIMEOUT,
        ("--ns", dict(required=True)), ("--workdir", dict(required=True)),
        ("--chunk", dict(type=int, default=250)), ("--parallel", dict(type=int, default=2)),
        ("--moto-pidfile", dict(default="")), ("--apiserver-pidfile", dict(default="")),
        ("--workers", dict(type=int, default=4)), ("--name", dict(default="cold_start")),
        ("--regions", dict(type=int, default=1)))
    add("settle", cmd_settle, PID, PORT, TIMEOUT,
        ("--min-reconciles", dict(type=int, default=0)),
        ("--emit-restart", dict(action="store_true")), ("--n", dict(type=int, default=0)),
        ("--since-epoch", dict(type=float, default=0)),
        ("--name", dict(default="restart_to_quiet")),
        ("--label", dict(action="append", default=[])),
        ("--all-ready", dict(action="store_true")))
    add("steady", cmd_steady, PID, PORT, N, TIMEOUT,
        ("--resync", dict(type=float, required=True)), ("--k", dict(type=int, default=3)),
        ("--idle-out", dict(required=True)))
    add("noop", cmd_noop, PID, PORT, N,
        ("--idle-in", dict(required=True)), ("--rounds", dict(type=int, default=0)),
        ("--min-reconciles", dict(type=int, default=2000)),
        ("--round-timeout", dict(type=float, default=120)))
    add("pick-groups", cmd_pick_groups, ("--ns", dict(required=True)),
        ("--count", dict(type=int, required=True)), ("--out", dict(required=True)),
        ("--seed", dict(type=int, default=1)))
    add("mttr", cmd_mttr, PID, PORT, N,
        ("--mode", dict(choices=["polling", "event"], required=True)),
        ("--groups", dict(required=True)), ("--offset", dict(type=int, default=0)),
        ("--m", dict(type=int, default=20)), ("--resync", dict(type=float, required=True)),
        ("--spread", dict(type=float, default=None)),
        ("--interval", dict(type=float, default=0.15)),
        ("--sample-timeout", dict(type=float, required=True)),
        ("--queue-url", dict(default="")), ("--seed", dict(type=int, default=1)))
    add("create-queue", cmd_create_queue, ("--name", dict(required=True)))
    add("event-probe", cmd_event_probe, PID, PORT, TIMEOUT, ("--queue-url", dict(required=True)))
    add("emit", cmd_emit, ("json", dict()))
    add("hwm", cmd_hwm, PID)
    LEASE = ("--lease", dict(required=True))
    LEASE_NS = ("--namespace", dict(default="netposture-system"))
    add("lease-holder", cmd_lease_holder, LEASE, LEASE_NS, TIMEOUT,
        ("--not", dict(dest="not_", default="")))
    add("takeover", cmd_takeover, LEASE, LEASE_NS, TIMEOUT, N,
        ("--name", dict(required=True)), ("--since", dict(type=float, required=True)),
        ("--old", dict(required=True)), ("--target", dict(type=float, required=True)),
        ("--lease-duration", dict(type=float, required=True)),
        ("--retry", dict(type=float, required=True)))
    add("gap-summary", cmd_gap_summary, N, ("--file", dict(required=True)),
        ("--copies", dict(type=int, required=True)))
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
