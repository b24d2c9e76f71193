"""The soak run behind scripts/soak: see there."""
import hashlib
import hmac
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

binary, minutes = sys.argv[1], float(sys.argv[2])
# Harder load: more starter threads, a shorter pause between each one's starts.
starters = int(sys.argv[3]) if len(sys.argv) > 3 else 2
pause = float(sys.argv[4]) / 1000 if len(sys.argv) > 4 else 0.05
work = tempfile.mkdtemp(prefix="novacron-soak-")
token, secret = "soak-token", "soak-webhook-secret"
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
base = f"http://127.0.0.1:{port}"
db = os.path.join(work, "soak.db")
env = dict(os.environ, NOVACRON_API_TOKENS=f"admin:{token}", NOVACRON_SECRET_HOOK=secret)
log = open(os.path.join(work, "server.log"), "w")
server = subprocess.Popen([binary, "serve", "--port", str(port), "--db", db, "--retention", "1h"], env=env, stdout=log, stderr=log)
stop = threading.Event()
lock = threading.Lock()
latencies = {"healthz": [], "start": []}
counts = {"starts": 0, "webhooks": 0, "sse": 0, "errors": 0}


def call(method, path, body=None, headers=None, timeout=30):
    h = {"Authorization": f"Bearer {token}"}
    h.update(headers or {})
    request = urllib.request.Request(base + path, data=body, method=method, headers=h)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


for _ in range(200):
    try:
        if call("GET", "/readyz")[0] == 200:
            break
    except Exception:
        time.sleep(0.1)

workflow = """
name: soak
triggers:
  - {id: hook, type: webhook, source: github, secret: "${secrets.HOOK}", conditions: {event: push}}
  - {id: tick, type: schedule, schedule: "* * * * *"}
steps:
  - {id: prepare, inputs: {command: 'echo "prepared=${inputs.n}" >> "$NOVACRON_OUTPUT"'}, timeout: 10s}
  - id: flaky
    dependencies: [prepare]
    retryPolicy: {maxAttempts: 3, initialDelay: 100ms, backoffStrategy: fixed, jitter: none}
    inputs: {command: '[ $(( RANDOM % 3 )) -ne 0 ]'}
    timeout: 10s
  - {id: report, dependencies: [flaky], inputs: {command: 'echo done'}, timeout: 10s}
variables: {n: 0}
"""
call("POST", "/api/v1/workflows", workflow.encode(), {"Content-Type": "application/yaml"})


def starter():
    n = 0
    while not stop.is_set():
        n += 1
        began = time.monotonic()
        try:
            call("POST", "/api/v1/workflows/soak/executions", json.dumps({"inputs": {"n": n}}).encode(), {"Content-Type": "application/json"})
            with lock:
                latencies["start"].append(time.monotonic() - began)
                counts["starts"] += 1
        except Exception:
            with lock:
                counts["errors"] += 1
        time.sleep(pause)


def webhooks():
    while not stop.is_set():
        body = json.dumps({"ref": "refs/heads/main", "after": uuid.uuid4().hex}).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": signature}
        try:
            call("POST", "/api/v1/webhooks/github", body, headers)
            with lock:
                counts["webhooks"] += 1
        except Exception:
            with lock:
                counts["errors"] += 1
        time.sleep(0.5)


def sse_reader():
    while not stop.is_set():
        try:
            request = urllib.request.Request(base + "/api/v1/events/stream", headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=5) as response:
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline and not stop.is_set():
                    if not response.readline():
                        break
            with lock:
                counts["sse"] += 1
        except Exception:
            pass


def prober():
    while not stop.is_set():
        began = time.monotonic()
        try:
            call("GET", "/healthz")
            with lock:
                latencies["healthz"].append(time.monotonic() - began)
        except Exception:
            with lock:
                counts["errors"] += 1
        time.sleep(0.1)


threads = [threading.Thread(target=f, daemon=True) for f in [starter] * starters + [webhooks, prober] + [sse_reader] * 8]
for t in threads:
    t.start()


def sample():
    status = open(f"/proc/{server.pid}/status").read()
    field = lambda name: int(next(line for line in status.splitlines() if line.startswith(name)).split()[1])
    fds = len(os.listdir(f"/proc/{server.pid}/fd"))
    size = sum(os.path.getsize(os.path.join(work, f)) for f in os.listdir(work) if f.startswith("soak.db"))
    with lock:
        h, s = sorted(latencies["healthz"]), sorted(latencies["start"])
        latencies["healthz"], latencies["start"] = [], []
        c = dict(counts)

    def q(values, p):
        return values[min(len(values) - 1, int(p * len(values)))] * 1000 if values else float("nan")

    return {"rssMiB": field("VmRSS:") / 1024, "fds": fds, "threads": field("Threads:"), "storeMiB": size / 2**20,
            "healthzP50ms": q(h, 0.5), "healthzP99ms": q(h, 0.99), "startP50ms": q(s, 0.5), "startP99ms": q(s, 0.99), **c}


rows = []
began = time.monotonic()
print("minute  rss MiB  fds  threads  store MiB  healthz p50/p99 ms  start p50/p99 ms  starts  webhooks  sse  errors", flush=True)
try:
    while time.monotonic() - began < minutes * 60:
        time.sleep(30)
        row = sample()
        row["minute"] = (time.monotonic() - began) / 60
        rows.append(row)
        print(f"{row['minute']:6.1f}  {row['rssMiB']:7.1f}  {row['fds']:3d}  {row['threads']:7d}  {row['storeMiB']:9.1f}  "
              f"{row['healthzP50ms']:7.1f}/{row['healthzP99ms']:7.1f}  {row['startP50ms']:7.1f}/{row['startP99ms']:7.1f}  "
              f"{row['starts']:6d}  {row['webhooks']:8d}  {row['sse']:3d}  {row['errors']:6d}", flush=True)
        if server.poll() is not None:
            print("the server exited", file=sys.stderr)
            break
finally:
    stop.set()
    server.terminate()
    server.wait(timeout=60)

third = max(1, len(rows) // 3)
middle, last = rows[third:2 * third], rows[2 * third:]
verdicts = []
for key, slack in [("rssMiB", 1.15), ("fds", 1.15), ("healthzP99ms", 2.0)]:
    m = statistics.mean(r[key] for r in middle) if middle else float("nan")
    l = statistics.mean(r[key] for r in last) if last else float("nan")
    verdicts.append((key, m, l, l <= m * slack + 1))
# Retention is 1h with a pass every 5 minutes: from minute 65 on, what is deleted balances what
# is added and the database file (whose freed pages are reused) stops growing.
after = [r for r in rows if r["minute"] > 65]
if len(after) >= 4:
    half = len(after) // 2
    m = statistics.mean(r["storeMiB"] for r in after[:half])
    l = statistics.mean(r["storeMiB"] for r in after[half:])
    verdicts.append(("storeMiB (after minute 65)", m, l, l <= m * 1.1 + 1))
else:
    print("storeMiB: run at least 75 minutes to see retention (1h) level the store off")
for key, m, l, ok in verdicts:
    print(f"{key}: middle third {m:.1f}, last third {l:.1f}: {'levelled off' if ok else 'still growing'}")
shutil.copy(os.path.join(work, "server.log"), "/tmp/novacron-soak-server.log") if os.path.exists(os.path.join(work, "server.log")) else None
shutil.rmtree(work, ignore_errors=True)
sys.exit(0 if all(ok for *_, ok in verdicts) else 1)
