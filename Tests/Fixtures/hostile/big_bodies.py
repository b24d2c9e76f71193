"""Sends a 50 MB body to every operation of the API that takes one (from the server's own
OpenAPI document), and prints one JSON line per operation: its status, or "closed" when the
server closed the connection before answering (it may refuse a body that large unread).

    python3 big_bodies.py BASE_URL TOKEN
"""
import http.client
import json
import re
import socket
import sys
import urllib.parse
import urllib.request

base, token = sys.argv[1], sys.argv[2]
url = urllib.parse.urlparse(base)
document = json.load(urllib.request.urlopen(urllib.request.Request(base + "/api/v1/openapi.json")))
body = b'{"inputs": {"x": "' + b"a" * (50 * 1024 * 1024) + b'"}}'
for path, operations in sorted(document["paths"].items()):
    for method in ("post", "put", "patch"):
        if method not in operations:
            continue
        concrete = ("" if path.startswith("/api/") else "/api/v1") + re.sub(r"\{[^}]+\}", "nope", path)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        try:
            connection.putrequest(method.upper(), concrete)
            connection.putheader("Authorization", "Bearer " + token)
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders()
            try:
                connection.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before it was all sent: the answer may still be there
            response = connection.getresponse()
            outcome = response.status
            response.read()
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
            outcome = "closed"
        except socket.timeout:
            outcome = "timeout"
        finally:
            connection.close()
        print(json.dumps({"method": method.upper(), "path": concrete, "outcome": outcome}), flush=True)
