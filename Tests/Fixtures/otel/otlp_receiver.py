"""A loopback OTLP/HTTP trace receiver for the tests: decodes every export with the official
opentelemetry-proto package (protobuf or OTLP/JSON), so the wire format is checked by code
NovaCron did not write, and appends each span to a file as one JSON object a line.

    python3 otlp_receiver.py SPANS_FILE      # prints "listening PORT" once it listens

Any other POST or GET is recorded as {"request": path, "headers": {...}}, so a test can see what
an HTTP step sent. An export that does not decode is answered 400 and recorded as {"error": ...}.
"""
import base64
import gzip
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

lock = threading.Lock()
out_path = sys.argv[1]


def record(obj):
    with lock, open(out_path, "a") as f:
        f.write(json.dumps(obj, sort_keys=True) + "\n")


def any_value(v):
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind) if kind else None


def hex_ids_to_base64(node):
    """OTLP/JSON writes trace and span ids as hex; protobuf's JSON mapping wants base64."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                node[key] = base64.b64encode(bytes.fromhex(value)).decode() if value else ""
            else:
                hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            hex_ids_to_base64(item)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def body(self):
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return data

    def answer(self, status, payload, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        record({"request": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}})
        self.answer(200, b'{"ok": true}', "application/json")

    def do_POST(self):
        data = self.body()
        if self.path != "/v1/traces":
            record({"request": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}})
            self.answer(200, b'{"ok": true}', "application/json")
            return
        content_type = self.headers.get("Content-Type", "")
        request = trace_service_pb2.ExportTraceServiceRequest()
        try:
            if "json" in content_type:
                tree = json.loads(data)
                hex_ids_to_base64(tree)
                json_format.ParseDict(tree, request)
                wire = "json"
            else:
                request.ParseFromString(data)
                wire = "protobuf"
        except Exception as error:  # the test reads this line and fails, saying why
            record({"error": f"{type(error).__name__}: {error}", "contentType": content_type})
            self.answer(400, b"", "text/plain")
            return
        for resource_spans in request.resource_spans:
            resource = {kv.key: any_value(kv.value) for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    record({
                        "wire": wire,
                        "service": resource.get("service.name"),
                        "traceID": span.trace_id.hex(),
                        "spanID": span.span_id.hex(),
                        "parentSpanID": span.parent_span_id.hex(),
                        "name": span.name,
                        "kind": trace_pb2.Span.SpanKind.Name(span.kind),
                        "start": span.start_time_unix_nano,
                        "end": span.end_time_unix_nano,
                        "attributes": {kv.key: any_value(kv.value) for kv in span.attributes},
                        "status": trace_pb2.Status.StatusCode.Name(span.status.code),
                        "statusMessage": span.status.message,
                    })
        if wire == "json":
            self.answer(200, b"{}", "application/json")
        else:
            self.answer(200, trace_service_pb2.ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")


# The test process may ignore or block SIGTERM, and both last across exec.
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
