import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Start key store conformance")
struct StartKeyStoreConformanceTests {
    @Test(
        "a key names the first execution claimed under it until it is a day old, or its execution was never saved",
        arguments: StoreKind.allCases)
    func claims(kind: StoreKind) async throws {
        let store = try await kind.make()
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let expiry = t.addingTimeInterval(-86_400)
        let first = StartKey(key: "deploy-42", fingerprint: "f1", executionID: "e1", createdAt: t)
        #expect(try await store.claimStartKey(first, expiry: expiry, abandoned: nil) == first)
        // A second claim gets the first one back, whatever it asked.
        let second = StartKey(key: "deploy-42", fingerprint: "f2", executionID: "e2", createdAt: t.addingTimeInterval(5))
        #expect(try await store.claimStartKey(second, expiry: expiry, abandoned: nil) == first)
        // Another key is another claim.
        let other = StartKey(key: "deploy-43", fingerprint: "f1", executionID: "e3", createdAt: t)
        #expect(try await store.claimStartKey(other, expiry: expiry, abandoned: nil) == other)
        // Naming the abandoned execution takes the key over; naming another does not.
        #expect(try await store.claimStartKey(second, expiry: expiry, abandoned: "e9") == first)
        #expect(try await store.claimStartKey(second, expiry: expiry, abandoned: "e1") == second)
        // A day later the key is forgotten.
        let later = StartKey(key: "deploy-42", fingerprint: "f3", executionID: "e4", createdAt: t.addingTimeInterval(86_500))
        #expect(try await store.claimStartKey(later, expiry: t.addingTimeInterval(100), abandoned: nil) == later)
    }
}
