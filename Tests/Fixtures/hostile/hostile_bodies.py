"""Sends hostile bodies to every operation of the API that takes one (from the server's own
OpenAPI document): nesting a hundred thousand deep, a YAML alias bomb, numbers and durations
past any range, invalid UTF-8. Path parameters name things that exist (a registered workflow,
an execution waiting at an approval), so each body reaches the code that reads it. Prints one
JSON line per request: its status (or "closed"/"timeout"), whether a 4xx answer was a problem
document, how long it took, and whether /healthz answered right after.

    python3 hostile_bodies.py BASE_URL TOKEN
"""
import http.client
import json
import re
import socket
import sys
import time
import urllib.parse
import urllib.request

base, token = sys.argv[1], sys.argv[2]
url = urllib.parse.urlparse(base)
# Deep, yet small enough for the body limits, so the parsers see it.
DEPTH = 10_000


def request(method, path, body=None, content_type="application/json", timeout=30):
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        connection.putrequest(method, path)
        connection.putheader("Authorization", "Bearer " + token)
        if body is not None:
            connection.putheader("Content-Type", content_type)
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        if body is not None:
            try:
                connection.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
        return "closed", "", b""
    except socket.timeout:
        return "timeout", "", b""
    finally:
        connection.close()


# Something for the path parameters to name: a workflow with an approval, an execution waiting at it.
workflow = b"""name: hostile
triggers:
  - {type: webhook, source: generic}
  - {type: incident, source: pagerduty}
  - {type: incident, source: alertmanager}
steps:
  - {id: gate, type: approval, inputs: {message: "go?"}}
  - {id: after, dependencies: [gate], inputs: {command: "true"}}
"""
status, _, text = request("POST", "/api/v1/workflows", workflow, "application/yaml")
assert status in (200, 201), (status, text)
status, _, text = request("POST", "/api/v1/workflows/hostile/executions", b"{}")
assert status in (200, 201, 202), (status, text)
execution = json.loads(text)["id"]
names = {"workflowID": "hostile", "executionID": execution, "stepID": "gate", "name": "go", "token": "nope", "triggerID": "nope"}
sources = ["generic", "pagerduty", "alertmanager"]

deep_array = b"[" * DEPTH + b"]" * DEPTH
deep_object = b'{"a":' * DEPTH + b"1" + b"}" * DEPTH
bodies = {
    "deep array": (deep_array, "application/json", True),
    "deep object": (deep_object, "application/json", True),
    "deep inputs": (b'{"inputs": {"x": ' + deep_array + b"}}", "application/json", True),
    "huge exponent": (b'{"inputs": {"x": 1e999999}, "payload": 1e999999, "reason": 1e999999}', "application/json", False),
    "long integer": (b'{"inputs": {"x": ' + b"9" * 100_000 + b"}}", "application/json", False),
    "invalid UTF-8": (b'{"inputs": {"x": "\xff\xfe\xc0\xaf"}, "reason": "\xed\xa0\x80"}', "application/json", True),
    "huge durations": (b'{"start": "2020-01-01T00:00:00Z", "end": "9999-12-31T23:59:59Z", "every": "99999999999999999999h",'
                       b' "timeout": "1e308s", "delay": "-99999999999999h"}', "application/json", False),
}
yaml_bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
    b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((ord("b") + i, ord("b") + i) + (ord("a") + i,) * 9)
    for i in range(8)) + b"name: bomb\nsteps: *i\n"
workflow_bodies = {
    "YAML alias bomb": (yaml_bomb, "application/yaml", True),
    "deep YAML": (b"name: deep\nsteps: " + b"[" * DEPTH + b"]" * DEPTH + b"\n", "application/yaml", True),
    "deep YAML mapping": (b"name: deep\nsteps:\n" + b"".join(b" " * i + b"k:\n" for i in range(2000)), "application/yaml", True),
}

document = json.load(urllib.request.urlopen(urllib.request.Request(base + "/api/v1/openapi.json")))
for path, operations in sorted(document["paths"].items()):
    for method in ("post", "put", "patch"):
        if method not in operations or "requestBody" not in operations[method]:
            continue
        prefix = "" if path.startswith("/api/") else "/api/v1"
        concretes = [prefix + re.sub(r"\{([^}]+)\}", lambda m: urllib.parse.quote(names.get(m.group(1), "nope")), path)]
        if "{source}" in path:
            concretes = [c.replace("nope", source) for c in concretes for source in sources]
        cases = dict(bodies)
        if path.endswith("/workflows"):
            cases.update(workflow_bodies)
        for concrete, (kind, (body, content_type, refused)) in ((c, case) for c in concretes for case in cases.items()):
            began = time.monotonic()
            status, returned_type, _ = request(method.upper(), concrete, body, content_type)
            seconds = round(time.monotonic() - began, 3)
            health, _, said = request("GET", "/healthz", timeout=10)
            print(json.dumps({
                "method": method.upper(), "path": concrete, "body": kind, "outcome": status, "mustRefuse": refused,
                "problem": "problem+json" in returned_type, "seconds": seconds, "healthy": health == 200 and said == b"ok",
            }), flush=True)
