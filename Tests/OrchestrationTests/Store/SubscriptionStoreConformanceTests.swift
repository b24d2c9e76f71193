import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Subscription store conformance")
struct SubscriptionStoreConformanceTests {
    @Test("subscriptions are listed oldest first, replaced by id, and deleted with their cursor", arguments: StoreKind.allCases)
    func subscriptions(kind: StoreKind) async throws {
        let store = try await kind.make()
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let b = EventSubscription(id: "b", url: "http://127.0.0.1:9/b", events: "*", secret: nil, createdAt: t.addingTimeInterval(1))
        var a = EventSubscription(id: "a", url: "http://127.0.0.1:9/a", events: "deploy.*", secret: "s3cret", maxAttempts: 3, createdAt: t)
        try await store.saveSubscription(b)
        try await store.saveSubscription(a)
        #expect(try await store.subscriptions() == [a, b])
        a.delivered = 4
        a.lastError = "HTTP 500"
        a.lastDeliveredSeq = 9
        try await store.saveSubscription(a)
        #expect(try await store.subscriptions() == [a, b])
        try await store.saveCursor("subscription:a", 9)
        #expect(try await store.deleteSubscription(id: "a"))
        #expect(try await !store.deleteSubscription(id: "a"))
        #expect(try await store.subscriptions() == [b])
        #expect(try await store.cursor("subscription:a") == nil)
    }

    @Test("dead letters are per subscription, newest event first, one per event", arguments: StoreKind.allCases)
    func deadLetters(kind: StoreKind) async throws {
        let store = try await kind.make()
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        for seq in [Int64(3), 5, 4] {
            try await store.addDeadLetter(DeadLetter(subscriptionID: "a", seq: seq, type: "x", attempts: 5, error: "HTTP 500", at: t))
        }
        try await store.addDeadLetter(DeadLetter(subscriptionID: "b", seq: 6, type: "x", attempts: 1, error: "refused", at: t))
        let again = DeadLetter(subscriptionID: "a", seq: 5, type: "x", attempts: 5, error: "timed out", at: t.addingTimeInterval(60))
        try await store.addDeadLetter(again)
        #expect(try await store.deadLetters(subscriptionID: "a", limit: 10).map(\.seq) == [5, 4, 3])
        #expect(try await store.deadLetters(subscriptionID: "a", limit: 10).first == again)
        #expect(try await store.deadLetters(subscriptionID: "a", limit: 2).map(\.seq) == [5, 4])
        #expect(try await store.deadLetters(subscriptionID: "b", limit: 10).map(\.error) == ["refused"])
        #expect(try await store.deadLetters(subscriptionID: "none", limit: 10).isEmpty)
    }
}
