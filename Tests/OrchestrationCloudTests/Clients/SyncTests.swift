import Foundation
import Orchestration
import OrchestrationCloud
import Synchronization
import TestSupport
import Testing

/// `sync`: Step Functions through moto's server; Logic Apps through Resource Manager and GCP
/// Workflows through its API, both against a local server that checks method, path, api-version,
/// headers and body the way the real APIs define them.
@Suite("Sync with the providers", .serialized)
struct SyncTests {
    static func export(_ yaml: String, _ target: CloudTarget, options: ExportOptions = ExportOptions()) throws -> ExportResult {
        try WorkflowExporter.export(try ExportSupport.graph(yaml), to: target, options: options)
    }

    static let lambdas = """
        name: nightly-etl
        steps:
          - {id: extract, type: lambda, inputs: {function_name: extract}}
          - {id: load, type: lambda, inputs: {function_name: load, rows: "${extract.rows}"}}
        """

    @Test("AWS: creates the state machine, leaves it when unchanged, updates it when the workflow changes", .timeLimit(.minutes(2)))
    func stepFunctions() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let role = try await moto.python(
            """
            print(client("iam").create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"])
            """
        ).split(separator: "\n").last.map(String.init)!
        let environment = [
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto.url,
        ]
        let sync = WorkflowSync(environment: environment, options: SyncOptions(awsRoleArn: role))
        let first = try await sync.sync(try Self.export(Self.lambdas, .aws), name: "nightly-etl")
        #expect(first.action == .created)
        #expect(first.id == "arn:aws:states:us-east-1:123456789012:stateMachine:nightly-etl")
        #expect(try await sync.sync(try Self.export(Self.lambdas, .aws), name: "nightly-etl").action == .unchanged)
        let changed = Self.lambdas.replacingOccurrences(of: "function_name: load,", with: "function_name: load-v2,")
        let second = try await sync.sync(try Self.export(changed, .aws), name: "nightly-etl")
        #expect(second == SyncResult(provider: .aws, action: .updated, id: first.id))
        // What AWS now holds is the new definition.
        let deployed = try await moto.python(
            """
            print(client("stepfunctions").describe_state_machine(stateMachineArn="\(first.id)")["definition"])
            """)
        #expect(deployed.contains(#""FunctionName": "load-v2""#))
        // Creating without a role says what is missing, in words.
        let noRole = WorkflowSync(environment: environment)
        await #expect(
            throws: CloudError(
                service: "AWS Step Functions",
                message: "state machine 'other' does not exist yet, and creating it needs the IAM role it runs as: pass --aws-role-arn")
        ) {
            try await noRole.sync(try Self.export(Self.lambdas, .aws), name: "other")
        }
        // The provider's own error, not a stack trace.
        await #expect(throws: CloudError.self) {
            try await sync.sync(try Self.export(Self.lambdas, .aws), name: "bad name with spaces")
        }
    }

    /// A Resource Manager and Entra ID stand-in: one logic app, kept in memory.
    final class FakeAzure: Sendable {
        let deployed = Mutex<JSONValue?>(nil)
        let path = "/subscriptions/sub-1/resourceGroups/ops/providers/Microsoft.Logic/workflows/triage"

        func handle(_ r: TestHTTPServer.Request) -> TestHTTPServer.Response {
            if r.uri == "/tenant-1/oauth2/v2.0/token" {
                guard r.method == "POST", r.body.contains("grant_type=client_credentials"), r.body.contains("client_secret=s3cret"),
                    r.body.contains("scope=https%3A%2F%2Fmanagement.azure.com%2F.default")
                else { return .init(status: 400, body: #"{"error":"invalid_request","error_description":"AADSTS900144: bad request"}"#) }
                return .init(status: 200, body: #"{"token_type":"Bearer","expires_in":3599,"access_token":"arm-token"}"#)
            }
            guard r.header("Authorization") == "Bearer arm-token" else {
                return .init(status: 401, body: #"{"error":{"code":"AuthenticationFailed","message":"Authentication failed."}}"#)
            }
            guard r.uri == path + "?api-version=2019-05-01" else {
                return .init(status: 400, body: #"{"error":{"code":"InvalidApiVersionParameter","message":"The api-version is invalid."}}"#)
            }
            switch r.method {
            case "GET":
                guard let app = deployed.withLock({ $0 }) else {
                    return .init(
                        status: 404,
                        body:
                            #"{"error":{"code":"ResourceNotFound","message":"The Resource 'Microsoft.Logic/workflows/triage' under resource group 'ops' was not found."}}"#
                    )
                }
                return .init(status: 200, body: app.jsonText)
            case "PUT":
                guard r.header("Content-Type") == "application/json",
                    let body = try? JSONDecoder().decode(JSONValue.self, from: Data(r.body.utf8)),
                    body["location"] != nil, body["properties"]?["definition"]?["actions"] != nil
                else { return .init(status: 400, body: #"{"error":{"code":"InvalidRequestContent","message":"The request content is not valid."}}"#) }
                let existed = deployed.withLock { state in
                    let had = state != nil
                    state = ["id": .string(path), "location": body["location"]!, "properties": body["properties"]!]
                    return had
                }
                return .init(status: existed ? 200 : 201, body: body.jsonText)
            default:
                return .init(status: 405, body: "")
            }
        }
    }

    static let http = """
        name: triage
        steps:
          - {id: page, type: api, inputs: {url: "https://pager.example.com/api/page", method: POST, json: {team: sre}}}
        """

    @Test("Azure: a service principal's token, then GET and PUT of the logic app with the api-version")
    func logicApps() async throws {
        let azure = FakeAzure()
        try await TestHTTPServer.with({ r, _ in azure.handle(r) }) { (server: TestHTTPServer) async throws -> Void in
            let environment = [
                "AZURE_TENANT_ID": "tenant-1", "AZURE_CLIENT_ID": "app-1", "AZURE_CLIENT_SECRET": "s3cret", "AZURE_AUTHORITY_HOST": server.url,
                "AZURE_SUBSCRIPTION_ID": "sub-1", "AZURE_RESOURCE_GROUP": "ops", "AZURE_RESOURCE_MANAGER_ENDPOINT": server.url,
            ]
            let sync = WorkflowSync(environment: environment, options: SyncOptions(azureLocation: "westeurope"))
            let id = azure.path
            #expect(try await sync.sync(try Self.export(Self.http, .azure), name: "triage") == SyncResult(provider: .azure, action: .created, id: id))
            #expect(try await sync.sync(try Self.export(Self.http, .azure), name: "triage").action == .unchanged)
            let changed = Self.http.replacingOccurrences(of: "team: sre", with: "team: db")
            #expect(try await sync.sync(try Self.export(changed, .azure), name: "triage").action == .updated)
            #expect(azure.deployed.withLock { $0?["properties"]?["definition"]?["actions"]?["page"]?["inputs"]?["body"] } == ["team": "db"])
            #expect(azure.deployed.withLock { $0?["location"] } == "westeurope")
            // A display name where the API wants a location name.
            await #expect(
                throws: CloudError(
                    service: "Azure Resource Manager",
                    message: "'West Europe' is not an Azure location name; write it like 'westeurope' (az account list-locations)")
            ) {
                try await WorkflowSync(environment: environment, options: SyncOptions(azureLocation: "West Europe")).sync(
                    try Self.export(Self.http, .azure), name: "other")
            }
            // A wrong secret: Entra ID's own words.
            var wrong = environment
            wrong["AZURE_CLIENT_SECRET"] = "nope"
            await #expect(
                throws: CloudError(service: "Microsoft Entra ID", code: "invalid_request", message: "AADSTS900144: bad request", status: 400)
            ) {
                try await WorkflowSync(environment: wrong).sync(try Self.export(Self.http, .azure), name: "triage")
            }
        }
        // No credentials at all.
        await #expect(
            throws: CloudError(
                service: "Azure",
                message: "no Azure credentials: set AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (a service principal with a client secret)")
        ) {
            try await WorkflowSync(environment: ["AZURE_SUBSCRIPTION_ID": "s", "AZURE_RESOURCE_GROUP": "g"]).sync(
                try Self.export(Self.http, .azure), name: "triage")
        }
    }

    /// A Workflows API and Google OAuth stand-in.
    final class FakeGCP: Sendable {
        let source = Mutex<String?>(nil)
        let base = "/v1/projects/acme/locations/europe-west1/workflows"

        func handle(_ r: TestHTTPServer.Request) -> TestHTTPServer.Response {
            if r.uri == "/token" {
                guard r.body.hasPrefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="),
                    let jwt = r.body.split(separator: "=").last, let claims = try? FunctionExecutorTests.claims(String(jwt)),
                    claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
                else { return .init(status: 400, body: #"{"error":"invalid_grant","error_description":"Invalid JWT"}"#) }
                return .init(status: 200, body: #"{"access_token":"gcp-token","expires_in":3599,"token_type":"Bearer"}"#)
            }
            guard r.header("Authorization") == "Bearer gcp-token" else {
                return .init(
                    status: 401,
                    body: #"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#)
            }
            switch (r.method, r.uri) {
            case ("GET", base + "/triage"):
                guard let text = source.withLock({ $0 }) else {
                    return .init(
                        status: 404,
                        body:
                            #"{"error":{"code":404,"message":"Resource 'projects/acme/locations/europe-west1/workflows/triage' was not found","status":"NOT_FOUND"}}"#
                    )
                }
                return .init(
                    status: 200,
                    body: JSONValue.object(["name": .string(String(base.dropFirst(4)) + "/triage"), "sourceContents": .string(text)]).jsonText)
            case ("POST", base + "?workflowId=triage"), ("PATCH", base + "/triage?updateMask=sourceContents,description"):
                guard let body = try? JSONDecoder().decode(JSONValue.self, from: Data(r.body.utf8)), case .string(let text)? = body["sourceContents"]
                else {
                    return .init(status: 400, body: #"{"error":{"code":400,"message":"sourceContents is required","status":"INVALID_ARGUMENT"}}"#)
                }
                // The service checks the definition in the operation, as the real one does.
                if text.contains("refuse-me") {
                    return .init(
                        status: 200,
                        body:
                            #"{"name":"projects/acme/locations/europe-west1/operations/op-bad","done":true,"error":{"code":3,"message":"failed to build: unknown step 'refuse-me'"}}"#
                    )
                }
                source.withLock { $0 = text }
                return .init(status: 200, body: #"{"name":"projects/acme/locations/europe-west1/operations/op-1","done":false}"#)
            case ("GET", "/v1/projects/acme/locations/europe-west1/operations/op-1"):
                return .init(status: 200, body: #"{"name":"projects/acme/locations/europe-west1/operations/op-1","done":true,"response":{}}"#)
            default:
                return .init(status: 404, body: #"{"error":{"code":404,"message":"no route","status":"NOT_FOUND"}}"#)
            }
        }
    }

    @Test("GCP: an access token from the service account, then GET and POST or PATCH of the workflow")
    func gcpWorkflows() async throws {
        let gcp = FakeGCP()
        let keyFile = try ExportSupport.temporary("", extension: "json")
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        try await TestHTTPServer.with({ r, _ in gcp.handle(r) }) { (server: TestHTTPServer) async throws -> Void in
            try FunctionExecutorTests.serviceAccount(tokenURI: server.url + "/token").write(toFile: keyFile, atomically: true, encoding: .utf8)
            let environment = [
                "GOOGLE_APPLICATION_CREDENTIALS": keyFile, "GOOGLE_CLOUD_REGION": "europe-west1",
                "CLOUDSDK_API_ENDPOINT_OVERRIDES_WORKFLOWS": server.url + "/",
            ]
            // The server has the operation done when first asked: no need to wait between polls.
            let sync = WorkflowSync(environment: environment, pause: { _ in })
            let id = "projects/acme/locations/europe-west1/workflows/triage"
            #expect(try await sync.sync(try Self.export(Self.http, .gcp), name: "triage") == SyncResult(provider: .gcp, action: .created, id: id))
            #expect(try await sync.sync(try Self.export(Self.http, .gcp), name: "triage").action == .unchanged)
            let changed = Self.http.replacingOccurrences(of: "team: sre", with: "team: db")
            #expect(try await sync.sync(try Self.export(changed, .gcp), name: "triage").action == .updated)
            #expect(gcp.source.withLock { $0 }?.contains("team: db") == true)
            // The operation's error is the sync's error.
            let refused = Self.http.replacingOccurrences(of: "team: sre", with: "team: refuse-me")
            await #expect(throws: CloudError(service: "GCP Workflows", code: "code 3", message: "failed to build: unknown step 'refuse-me'")) {
                try await sync.sync(try Self.export(refused, .gcp), name: "triage")
            }
            var badRegion = environment
            badRegion["GOOGLE_CLOUD_REGION"] = "europe"
            await #expect(throws: CloudError(service: "GCP Workflows", message: "'europe' is not a GCP region name like europe-west1")) {
                try await WorkflowSync(environment: badRegion).sync(try Self.export(Self.http, .gcp), name: "triage")
            }
            // The project came from the key file; a missing region is named.
            await #expect(throws: CloudError(service: "GCP Workflows", message: "no region: pass --region or set GOOGLE_CLOUD_REGION")) {
                try await WorkflowSync(environment: ["GOOGLE_APPLICATION_CREDENTIALS": keyFile]).sync(
                    try Self.export(Self.http, .gcp), name: "triage")
            }
        }
    }
}
