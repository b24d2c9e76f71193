import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Event log store conformance")
struct EventLogStoreConformanceTests {
    @Test("events are numbered in order from 1, read back after a sequence number, in pages", arguments: StoreKind.allCases)
    func log(kind: StoreKind) async throws {
        let store = try await kind.make()
        #expect(try await store.lastEventSeq() == 0)
        #expect(try await store.events(after: 0, limit: 10).isEmpty)
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let first = try await store.appendEvents([
            (type: "deploy.started", data: ["env": "prod"], source: "api", time: t),
            (type: "deploy.finished", data: ["ok": true, "n": 2], source: "engine", time: t.addingTimeInterval(1)),
        ])
        let second = try await store.appendEvents([(type: "x", data: .null, source: "cli", time: t.addingTimeInterval(2))])
        #expect(first.map(\.seq) == [1, 2])
        #expect(second.map(\.seq) == [3])
        #expect(try await store.lastEventSeq() == 3)
        let all = try await store.events(after: 0, limit: 10)
        #expect(all == first + second)
        #expect(try await store.events(after: 1, limit: 1) == [first[1]])
        #expect(try await store.events(after: 3, limit: 10).isEmpty)
        #expect(try await store.events(after: 99, limit: 10).isEmpty)
    }

    @Test("a consumer's cursor is nil until saved, then what was saved last", arguments: StoreKind.allCases)
    func cursors(kind: StoreKind) async throws {
        let store = try await kind.make()
        #expect(try await store.cursor("trigger:w/t") == nil)
        try await store.saveCursor("trigger:w/t", 5)
        try await store.saveCursor("trigger:w/t", 7)
        try await store.saveCursor("other", 1)
        #expect(try await store.cursor("trigger:w/t") == 7)
        #expect(try await store.cursor("other") == 1)
    }
}
