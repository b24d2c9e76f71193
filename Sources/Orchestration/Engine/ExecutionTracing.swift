import Foundation
import Synchronization
import Tracing

/// The engine's spans (docs/observability.md), through swift-distributed-tracing's `Tracer`: an
/// execution is a trace with a root span, each attempt, wait and rollback a child of it. Spans are
/// placed by ``TraceHeaders`` rather than by live objects, so an attempt that runs on a worker
/// node, or after a restart, joins the same trace: the root's headers are saved with the
/// execution, an attempt's go with its request.
///
/// Times are the engine's (``TimeSource``), so spans agree with the execution's own record.
/// Without a tracer the engine makes none of this.
final class ExecutionTracing: Sendable {
    let tracer: any Tracer
    /// The trace of each execution this engine runs, for its log lines.
    private let traceIDs = Mutex<[String: String]>([:])

    init(tracer: any Tracer) {
        self.tracer = tracer
    }

    /// A span `name` under `parent` (a top-level span without one), started `at`.
    func start(_ name: String, parent: TraceHeaders?, kind: SpanKind = .internal, at date: Date, attributes: SpanAttributes) -> any Span {
        var context = ServiceContext.topLevel
        if let parent {
            tracer.extract(parent.carrier, into: &context, using: TraceCarrier())
            // A tracestate the propagator cannot read voids the whole context: keep the parent without it.
            if parent.tracestate != nil, !carries(context) {
                context = .topLevel
                tracer.extract(["traceparent": parent.traceparent], into: &context, using: TraceCarrier())
            }
        }
        let span = tracer.startSpan(name, context: context, ofKind: kind, at: SpanInstant(date))
        span.attributes = attributes
        return span
    }

    /// Whether `context` names a span (the propagator read a parent into it).
    func carries(_ context: ServiceContext) -> Bool {
        var carrier: [String: String] = [:]
        tracer.inject(context, into: &carrier, using: TraceCarrier())
        return carrier["traceparent"] != nil
    }

    /// The headers that name `span`, for its children elsewhere (`nil` when the tracer sends none).
    func headers(of span: any Span) -> TraceHeaders? {
        var carrier: [String: String] = [:]
        tracer.inject(span.context, into: &carrier, using: TraceCarrier())
        return TraceHeaders(carrier)
    }

    func remember(_ executionID: String, trace: TraceHeaders?) {
        guard let trace else { return }
        traceIDs.withLock { $0[executionID] = trace.traceID }
    }

    func forget(_ executionID: String) {
        _ = traceIDs.withLock { $0.removeValue(forKey: executionID) }
    }

    func traceID(of executionID: String) -> String? {
        traceIDs.withLock { $0[executionID] }
    }
}

extension Span {
    /// Ends the span at an engine date.
    func end(at date: Date) {
        end(at: SpanInstant(date))
    }

    /// An error status with `message` (redacted already, as every error the engine keeps).
    func fail(_ message: String?) {
        setStatus(SpanStatus(code: .error, message: message))
    }
}

/// A date as a span time.
struct SpanInstant: TracerInstant {
    var nanosecondsSinceEpoch: UInt64

    init(_ date: Date) {
        let nanos = date.timeIntervalSince1970 * 1e9
        nanosecondsSinceEpoch = nanos.isFinite && nanos > 0 ? UInt64(min(nanos, Double(UInt64.max / 2))) : 0
    }

    static func < (lhs: SpanInstant, rhs: SpanInstant) -> Bool { lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch }
}

/// Headers as a propagator's carrier, both ways.
struct TraceCarrier: Injector, Extractor {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }

    func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key] ?? carrier.first { $0.key.lowercased() == key.lowercased() }?.value
    }
}
