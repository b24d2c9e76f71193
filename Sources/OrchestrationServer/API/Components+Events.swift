import Foundation
import Orchestration
import OrchestrationAPI

extension Components.Schemas.Event {
    init(_ e: BusEvent) {
        self.init(seq: Int(e.seq), _type: e.type, data: e.data.container, source: e.source, time: e.time)
    }
}

extension Components.Schemas.Subscription {
    /// A subscription as the API shows it: whether it is signed, never its secret.
    init(_ s: EventSubscription) {
        self.init(
            id: s.id, url: s.url, events: s.events, signed: s.secret != nil, maxAttempts: s.maxAttempts, createdAt: s.createdAt,
            delivered: s.delivered, deadLettered: s.deadLettered, lastError: s.lastError, lastDeliveredSeq: s.lastDeliveredSeq.map { Int($0) })
    }
}

extension Components.Schemas.DeadLetter {
    init(_ d: DeadLetter) {
        self.init(seq: Int(d.seq), _type: d.type, attempts: d.attempts, error: d.error, at: d.at)
    }
}
