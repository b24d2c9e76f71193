import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Orchestration
import OrchestrationServer
import OrchestrationSQLite
import OrchestrationTesting
import NIOHTTP1
import Synchronization
import TestSupport
import Testing

@Suite("Incident triggers: PagerDuty and Alertmanager")
struct IncidentTests {
    /// The test vector of PagerDuty's own Go library (go-pagerduty, webhookv3_test.go): this body,
    /// signed with this secret, carries this signature.
    static let vectorSecret = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK"
    static let vectorSignature = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"
    static let vectorBody =
        #"{"event":{"id":"01BWDWL3NYY7LUFPZCC28QUCMK","event_type":"incident.priority_updated","resource_type":"incident","occurred_at":"2021-04-26T17:36:27.458Z","agent":{"html_url":"https://acme.pagerduty.com/users/PLH1HKV","id":"PLH1HKV","self":"https://api.pagerduty.com/users/PLH1HKV","summary":"Tenex Engineer","type":"user_reference"},"client":null,"data":{"id":"PGR0VU2","type":"incident","self":"https://api.pagerduty.com/incidents/PGR0VU2","html_url":"https://acme.pagerduty.com/incidents/PGR0VU2","number":2,"status":"triggered","title":"A little bump in the road","service":{"html_url":"https://acme.pagerduty.com/services/PF9KMXH","id":"PF9KMXH","self":"https://api.pagerduty.com/services/PF9KMXH","summary":"API Service","type":"service_reference"},"assignees":[{"html_url":"https://acme.pagerduty.com/users/PTUXL6G","id":"PTUXL6G","self":"https://api.pagerduty.com/users/PTUXL6G","summary":"User 123","type":"user_reference"}],"escalation_policy":{"html_url":"https://acme.pagerduty.com/escalation_policies/PUS0KTE","id":"PUS0KTE","self":"https://api.pagerduty.com/escalation_policies/PUS0KTE","summary":"Default","type":"escalation_policy_reference"},"teams":[{"html_url":"https://acme.pagerduty.com/teams/PFCVPS0","id":"PFCVPS0","self":"https://api.pagerduty.com/teams/PFCVPS0","summary":"Engineering","type":"team_reference"}],"priority":{"html_url":"https://acme.pagerduty.com/account/incident_priorities","id":"PSO75BM","self":"https://api.pagerduty.com/priorities/PSO75BM","summary":"P1","type":"priority_reference"},"urgency":"high","conference_bridge":{"conference_number":1000,"conference_url":"https://example.com"},"resolve_reason":null}}}"#

    static func pagerDuty(_ headers: [String: String], _ body: String) -> Webhook.Delivery {
        Webhook.Delivery(source: "pagerduty", headers: headers, body: Array(body.utf8))
    }

    @Test("PagerDuty's published signature vector verifies, also beside a rotated-out signature; a changed body or secret does not")
    func pagerDutyVector() {
        let body = Self.vectorBody
        #expect(Incident.verify(Self.pagerDuty(["X-PagerDuty-Signature": Self.vectorSignature], body), secret: Self.vectorSecret))
        let rotating = "v1=130dcacb53a94d983a37cf2acba98e805a1c37185309ba56fdcccbcf00d6dd8b, " + Self.vectorSignature
        #expect(Incident.verify(Self.pagerDuty(["X-PagerDuty-Signature": rotating], body), secret: Self.vectorSecret))
        // go-pagerduty's "mismatch" case.
        #expect(
            !Incident.verify(
                Self.pagerDuty(["X-PagerDuty-Signature": "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5"], body),
                secret: Self.vectorSecret))
        #expect(!Incident.verify(Self.pagerDuty(["X-PagerDuty-Signature": Self.vectorSignature], body + " "), secret: Self.vectorSecret))
        #expect(!Incident.verify(Self.pagerDuty(["X-PagerDuty-Signature": Self.vectorSignature], body), secret: "another"))
        #expect(
            !Incident.verify(Self.pagerDuty(["X-PagerDuty-Signature": "v2=" + Self.vectorSignature.dropFirst(3)], body), secret: Self.vectorSecret))
        #expect(!Incident.verify(Self.pagerDuty([:], body), secret: Self.vectorSecret))
    }

    @Test(
        "a PagerDuty event reads as an incident; severity matches urgency or priority, service its name or id, the event type the trigger's pattern")
    func pagerDutyMatching() throws {
        let occurrences = try Incident.occurrences(of: Self.pagerDuty([:], Self.vectorBody))
        let incident = try #require(occurrences.first)
        #expect(occurrences.count == 1)
        #expect(incident.id == "01BWDWL3NYY7LUFPZCC28QUCMK")
        #expect(incident.payload["event"] == "incident.priority_updated")
        #expect(incident.payload["incident_id"] == "PGR0VU2")
        #expect(incident.payload["title"] == "A little bump in the road")
        #expect(incident.payload["severity"] == "high")
        #expect(incident.payload["priority"] == "P1")
        #expect(incident.payload["service"] == "API Service")
        #expect(incident.payload["url"] == "https://acme.pagerduty.com/incidents/PGR0VU2")

        func trigger(_ conditions: [String: JSONValue], event: String? = "incident.*") -> WorkflowTrigger {
            WorkflowTrigger(id: "t", type: .incident, source: "pagerduty", conditions: conditions, event: event)
        }
        // By default only new incidents (incident.triggered) start anything.
        #expect(!Incident.matches(trigger([:], event: nil), payload: incident.payload))
        #expect(Incident.matches(trigger([:]), payload: incident.payload))
        #expect(Incident.matches(trigger(["severity": ["critical", "high"]]), payload: incident.payload))
        #expect(Incident.matches(trigger(["severity": "p1"]), payload: incident.payload))
        #expect(!Incident.matches(trigger(["severity": "low"]), payload: incident.payload))
        #expect(Incident.matches(trigger(["service": "api service"]), payload: incident.payload))
        #expect(Incident.matches(trigger(["service": ["web", "PF9KMXH"]]), payload: incident.payload))
        #expect(!Incident.matches(trigger(["service": "web"]), payload: incident.payload))
        #expect(Incident.matches(trigger(["number": 2]), payload: incident.payload))
        #expect(!Incident.matches(trigger(["severity": "high"], event: "incident.resolved"), payload: incident.payload))
    }

    @Test(
        "an Alertmanager notification is one incident per alert; firing is incident.triggered, resolved incident.resolved; Bearer or basic credentials"
    )
    func alertmanagerReading() throws {
        let body = #"""
            {"version": "4", "status": "firing", "receiver": "novacron", "groupKey": "{}:{alertname=\"HighErrorRate\"}",
             "commonLabels": {"alertname": "HighErrorRate"}, "externalURL": "http://am:9093",
             "alerts": [
               {"status": "firing", "labels": {"alertname": "HighErrorRate", "severity": "critical", "service": "api-server"},
                "annotations": {"summary": "5% of requests fail"}, "startsAt": "2026-11-27T01:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom/graph", "fingerprint": "a1"},
               {"status": "resolved", "labels": {"alertname": "HighErrorRate", "severity": "warning", "service": "web"},
                "annotations": {}, "startsAt": "2026-11-27T00:00:00Z", "endsAt": "2026-11-27T00:30:00Z", "fingerprint": "b2"}
             ]}
            """#
        let delivery = Webhook.Delivery(source: "alertmanager", headers: ["Authorization": "Bearer am-token"], body: Array(body.utf8))
        #expect(Incident.verify(delivery, secret: "am-token"))
        #expect(!Incident.verify(delivery, secret: "am-token2"))
        let basic = "Basic " + Data("alertmanager:am-token".utf8).base64EncodedString()
        #expect(Incident.verify(Webhook.Delivery(source: "alertmanager", headers: ["Authorization": basic], body: []), secret: "am-token"))
        #expect(!Incident.verify(Webhook.Delivery(source: "alertmanager", headers: [:], body: []), secret: "am-token"))

        let incidents = try Incident.occurrences(of: delivery)
        #expect(incidents.map(\.payload["event"]) == ["incident.triggered", "incident.resolved"])
        #expect(incidents.map(\.payload["incident_id"]) == ["a1", "b2"])
        #expect(incidents[0].payload["title"] == "5% of requests fail")
        #expect(incidents[1].payload["title"] == "HighErrorRate")
        #expect(Set(incidents.map(\.id)).count == 2)
        let critical = WorkflowTrigger(
            id: "t", type: .incident, source: "alertmanager", conditions: ["severity": ["critical", "high"], "service": "api-server"])
        #expect(incidents.map { Incident.matches(critical, payload: $0.payload) } == [true, false])
        let resolved = WorkflowTrigger(id: "r", type: .incident, source: "alertmanager", event: "incident.resolved")
        #expect(incidents.map { Incident.matches(resolved, payload: $0.payload) } == [false, true])
        #expect(Incident.matches(resolved, payload: incidents[1].payload))
        #expect(throws: Webhook.Malformed.self) {
            try Incident.occurrences(of: Webhook.Delivery(source: "alertmanager", headers: [:], body: Array(#"{"status": "firing"}"#.utf8)))
        }
    }

    @Test("incident triggers validate their source, severity, service and event; a missing or clear-text secret is warned about")
    func validation() {
        func check(_ trigger: WorkflowTrigger) -> [String] {
            let workflow = Workflow(
                name: "respond", steps: [WorkflowStep(id: "page", inputs: ["command": "page-oncall"], timeout: .seconds(60))], triggers: [trigger])
            let result = WorkflowValidator().validate(workflow)
            return (result.errors + result.warnings).map(\.message)
        }
        let secret = "${secrets.X}"
        #expect(
            check(WorkflowTrigger(id: "t", type: .incident, source: "opsgenie", secret: secret)).contains {
                $0.contains("unknown incident source 'opsgenie'")
            })
        #expect(
            check(WorkflowTrigger(id: "t", type: .incident, source: "pagerduty", conditions: ["service": 3], secret: secret)) == [
                "service must be a name or a list of names"
            ])
        #expect(
            check(WorkflowTrigger(id: "t", type: .incident, source: "pagerduty", secret: secret, event: "deployment.done")).contains {
                $0.contains("incident triggers match incident events")
            })
        #expect(
            check(WorkflowTrigger(id: "t", type: .incident, source: "alertmanager")).contains {
                $0.contains("has no 'secret': every delivery is refused")
            })
        #expect(
            check(WorkflowTrigger(id: "t", type: .incident, source: "alertmanager", secret: "hunter2")).contains { $0.contains("written in clear") })
        #expect(
            check(
                WorkflowTrigger(
                    id: "t", type: .incident, source: "pagerduty", conditions: ["severity": ["high", "P1"], "service": "api"], secret: secret,
                    event: "incident.*")
            ).isEmpty)
    }

    static let workflow = """
        name: respond
        triggers:
          - id: pd
            type: incident
            source: pagerduty
            secret: ${secrets.PD_SECRET}
            conditions: {severity: [critical, high], service: api-server}
          - id: unsigned
            type: incident
            source: pagerduty
        steps:
          - {id: page, timeout: 1m}
        """

    static func pagerDutyIncident(id: String, type: String = "incident.triggered", urgency: String = "high", service: String = "api-server") -> String
    {
        #"{"event": {"id": "\#(id)", "event_type": "\#(type)", "resource_type": "incident", "occurred_at": "2026-11-27T01:00:00Z", "data": {"id": "Q\#(id)", "type": "incident", "title": "Checkout is down", "status": "triggered", "urgency": "\#(urgency)", "service": {"id": "PSVC", "summary": "\#(service)"}, "html_url": "https://acme.pagerduty.com/incidents/Q\#(id)"}}}"#
    }

    static func signed(_ body: String, secret: String = "pd-secret") -> HTTPFields {
        [
            HTTPField.Name("X-PagerDuty-Signature")!: "v1=" + Hex.encode(Webhook.signature(Array(body.utf8), secret: secret)),
            .contentType: "application/json",
        ]
    }

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any])
    }

    @Test(
        "a signed PagerDuty incident starts the workflow with the incident's fields; redeliveries, other urgencies and bad signatures start nothing")
    func pagerDutyDelivery() async throws {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:], values: ["PD_SECRET": "pd-secret"]), store: store)
        try await engine.registerWorkflow(try workflowDocument(Self.workflow))
        let app = try await buildApplication(
            engine: engine, store: store, configuration: ServerConfiguration(port: 0, tokens: try APITokens(environment: "viewer:v")))
        try await app.test(.router) { client in
            let body = Self.pagerDutyIncident(id: "E1")
            let id = try await client.execute(
                uri: "/api/v1/webhooks/pagerduty", method: .post, headers: Self.signed(body), body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .accepted)
                let started = try #require(try self.json(response.body)["executions"] as? [[String: Any]])
                #expect(started.count == 1)
                return try #require(started.first?["execution"] as? String)
            }
            let execution = try await engine.waitForExecution(id)
            #expect(execution.inputs["incident_id"] == "QE1")
            #expect(execution.inputs["title"] == "Checkout is down")
            #expect(execution.inputs["severity"] == "high")
            #expect(execution.inputs["service"] == "api-server")
            #expect(execution.inputs["triggered_by"] == "pagerduty")
            // PagerDuty retries a delivery it thinks failed: the same event id starts nothing.
            try await client.execute(uri: "/api/v1/webhooks/pagerduty", method: .post, headers: Self.signed(body), body: ByteBuffer(string: body)) {
                response in
                #expect(response.status == .ok)
                let answer = try self.json(response.body)
                #expect(answer["duplicates"] as? [String] == ["E1"])
            }
            // A low-urgency incident, and the acknowledgement of the first, verify but do not match.
            for other in [Self.pagerDutyIncident(id: "E2", urgency: "low"), Self.pagerDutyIncident(id: "E3", type: "incident.acknowledged")] {
                try await client.execute(
                    uri: "/api/v1/webhooks/pagerduty", method: .post, headers: Self.signed(other), body: ByteBuffer(string: other)
                ) { response in
                    #expect(response.status == .accepted)
                    let answer = try self.json(response.body)
                    #expect((answer["executions"] as? [Any])?.isEmpty == true)
                }
            }
            // Signed with another secret: refused, and the triggers say why.
            let forged = Self.pagerDutyIncident(id: "E4")
            try await client.execute(
                uri: "/api/v1/webhooks/pagerduty", method: .post, headers: Self.signed(forged, secret: "guess"), body: ByteBuffer(string: forged)
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(String(buffer: response.body).contains("X-PagerDuty-Signature"))
            }
            let notJSON = "incident"
            try await client.execute(
                uri: "/api/v1/webhooks/pagerduty", method: .post, headers: Self.signed(notJSON), body: ByteBuffer(string: notJSON)
            ) { #expect($0.status == .badRequest) }
            #expect(await engine.listExecutions(workflowID: "respond", limit: 10).count == 1)
            try await client.execute(uri: "/api/v1/workflows/respond/triggers", method: .get, headers: [.authorization: "Bearer v"]) { response in
                let triggers = try #require(try self.json(response.body)["triggers"] as? [[String: Any]])
                let byID = Dictionary(uniqueKeysWithValues: triggers.map { ($0["id"] as? String ?? "", $0) })
                #expect(byID["pd"]?["fireCount"] as? Int == 1)
                #expect((byID["pd"]?["lastError"] as? String)?.contains("does not verify") == true)
                #expect((byID["unsigned"]?["lastError"] as? String)?.contains("no secret") == true)
            }
        }
    }
}
