import HTTPTypes
import Hummingbird
import Orchestration

extension Request {
    /// The request's W3C Trace Context, when its `traceparent` is well formed (anything else is
    /// ignored, as the specification asks).
    var traceHeaders: TraceHeaders? {
        guard let parent = headers[HTTPField.Name("traceparent")!] else { return nil }
        return TraceHeaders(traceparent: parent, tracestate: headers[HTTPField.Name("tracestate")!])
    }
}
