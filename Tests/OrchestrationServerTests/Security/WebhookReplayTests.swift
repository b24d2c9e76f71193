import Crypto
import Foundation
import Orchestration
import OrchestrationServer
import OrchestrationTesting
import TestSupport
import Testing

/// A captured, validly signed delivery, sent again by whoever captured it.
@Suite("Webhook replays", .serialized)
struct WebhookReplayTests {
    static let workflow = """
        name: deploy
        triggers:
          - {id: gh, type: webhook, source: github, secret: "${secrets.GH}"}
          - {id: tool, type: webhook, source: generic, secret: "${secrets.TOOL}"}
        steps:
          - {id: ship, inputs: {command: x}}
        """

    static func post(_ port: Int, _ source: String, _ headers: [String: String], _ body: String) async throws -> (status: Int, text: String) {
        var all = headers
        all["Content-Type"] = "application/json"
        return try await RawHTTP.request(port: port, method: "POST", path: "/api/v1/webhooks/\(source)", headers: all, body: body)
    }

    static func register(_ port: Int) async throws {
        let (status, text) = try await RawHTTP.request(
            port: port, method: "POST", path: "/api/v1/workflows", headers: ["Content-Type": "application/yaml"], body: workflow)
        #expect(status == 201, "\(text)")
    }

    static func started(_ text: String) -> Int { text.matches(of: /"execution":"/).count }

    @Test(
        "a body-signed delivery needs its delivery id, and the same body under a new id is a duplicate (GitHub and X-Signature-256)",
        arguments: [
            ("github", "X-Hub-Signature-256", "X-GitHub-Delivery"), ("generic", "X-Signature-256", "X-Delivery-ID"),
        ])
    func bodySigned(source: String, signatureHeader: String, idHeader: String) async throws {
        let secret = source == "github" ? "gh-secret" : "tool-secret"
        try await withLiveServer(secrets: ["GH": "gh-secret", "TOOL": "tool-secret"]) { port, _ in
            try await Self.register(port)
            let body = #"{"ref": "refs/heads/main", "after": "abc"}"#
            let signature = "sha256=" + Hex.encode(Webhook.signature(Array(body.utf8), secret: secret))
            let (noID, why) = try await Self.post(port, source, [signatureHeader: signature], body)
            #expect(noID == 400)
            #expect(why.contains("no delivery id"))
            let (first, text) = try await Self.post(port, source, [signatureHeader: signature, idHeader: "d-1"], body)
            #expect(first == 202)
            #expect(Self.started(text) == 1)
            for id in ["d-1", "d-2", UUID().uuidString] {
                let (again, replay) = try await Self.post(port, source, [signatureHeader: signature, idHeader: id], body)
                #expect(again == 200, "\(replay)")
                #expect(replay.contains(#""duplicate":true"#))
                #expect(Self.started(replay) == 0)
            }
        }
    }

    static func standard(id: String, timestamp: Int, body: String, key: [UInt8]) -> [String: String] {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).\(body)".utf8), using: SymmetricKey(data: key))
        return ["webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": "v1," + Data(mac).base64EncodedString()]
    }

    @Test("Standard Webhooks: the specification's example verifies; a tampered id or timestamp does not")
    func standardVector() {
        let headers = [
            "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
            "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ]
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        #expect(Webhook.verify(Webhook.Delivery(source: "generic", headers: headers, body: body), secret: secret))
        var other = headers
        other["webhook-id"] = "msg_other"
        #expect(!Webhook.verify(Webhook.Delivery(source: "generic", headers: other, body: body), secret: secret))
        other = headers
        other["webhook-timestamp"] = "1614265331"
        #expect(!Webhook.verify(Webhook.Delivery(source: "generic", headers: other, body: body), secret: secret))
        // Several signatures during a key rotation: one that verifies is enough.
        other = headers
        other["webhook-signature"] = "v1,AAAA v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        #expect(Webhook.verify(Webhook.Delivery(source: "generic", headers: other, body: body), secret: secret))
    }

    @Test("Standard Webhooks: a fresh delivery starts once; a replay is a duplicate; an old or future timestamp is refused")
    func standardReplay() async throws {
        try await withLiveServer(secrets: ["GH": "gh-secret", "TOOL": "whsec_" + Data("tool key bytes".utf8).base64EncodedString()]) { port, _ in
            try await Self.register(port)
            let key = Array("tool key bytes".utf8)
            let now = Int(Date().timeIntervalSince1970)
            let body = #"{"build": 1}"#
            let fresh = Self.standard(id: "msg-1", timestamp: now, body: body, key: key)
            let (status, text) = try await Self.post(port, "generic", fresh, body)
            #expect(status == 202, "\(text)")
            #expect(Self.started(text) == 1)
            let (again, replay) = try await Self.post(port, "generic", fresh, body)
            #expect(again == 200)
            #expect(replay.contains(#""duplicate":true"#))
            // The same event under a new id is another event here (the id is signed): it runs.
            let (second, secondText) = try await Self.post(port, "generic", Self.standard(id: "msg-2", timestamp: now, body: body, key: key), body)
            #expect(second == 202)
            #expect(Self.started(secondText) == 1)
            for skew in [-301, 3600, -86_400 * 365] {
                let (old, why) = try await Self.post(
                    port, "generic", Self.standard(id: "msg-\(skew)", timestamp: now + skew, body: body, key: key), body)
                #expect(old == 401, "\(skew): \(why)")
                #expect(why.contains("webhook-timestamp"))
            }
        }
    }
}
