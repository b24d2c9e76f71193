import Foundation
import Orchestration
import OrchestrationCloud
import OrchestrationTesting
import TestSupport
import Testing

/// `lambda`/`function` steps for real: AWS Lambda through moto's server (which checks the SigV4
/// signature), and the error answers of Lambda, Azure Functions and Cloud Run from local servers.
@Suite("Cloud function steps", .serialized)
struct FunctionExecutorTests {
    /// An engine whose lambda steps go to a FunctionExecutor with `environment`, on a manual clock.
    func withEngine<R: Sendable>(_ environment: [String: String], _ body: (WorkflowEngine, ManualClock) async throws -> R) async throws -> R {
        var executors = ExecutorRegistry()
        executors.registerCloudFunctions(environment: environment)
        let clock = ManualClock()
        return try await WorkflowEngine.withEngine(executors: executors, clock: clock, secrets: SecretProvider(environment: [:])) { engine in
            try await body(engine, clock)
        }
    }

    /// Creates an IAM user with a key and a Lambda function `echo` in moto (6 unsigned setup
    /// requests; everything after must be signed with the user's key).
    static func setUp(_ moto: MotoServer) async throws -> (key: String, secret: String) {
        let output = try await moto.python(
            """
            iam = client("iam")
            iam.create_user(UserName="novacron")
            key = iam.create_access_key(UserName="novacron")["AccessKey"]
            policy = iam.create_policy(PolicyName="all", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))["Policy"]["Arn"]
            iam.attach_user_policy(UserName="novacron", PolicyArn=policy)
            role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            code = io.BytesIO()
            with zipfile.ZipFile(code, "w") as z:
                z.writestr("h.py", "def h(event, context):\\n    return event\\n")
            client("lambda").create_function(FunctionName="echo", Runtime="python3.12", Role=role, Handler="h.h", Code={"ZipFile": code.getvalue()})
            print(json.dumps([key["AccessKeyId"], key["SecretAccessKey"]]))
            """)
        let pair = try JSONDecoder().decode([String].self, from: Data(output.split(separator: "\n").last!.utf8))
        return (pair[0], pair[1])
    }

    @Test("Lambda steps invoke the function with a SigV4-signed request and pass its answer on; a wrong key is refused", .timeLimit(.minutes(2)))
    func lambdaOnMoto() async throws {
        let moto = try await MotoServer.start(setupRequests: 6)
        defer { moto.stop() }
        let (key, secret) = try await Self.setUp(moto)
        let environment = ["AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto.url]
        let workflow = """
            name: lambdas
            variables: {region: eu}
            steps:
              - {id: first, type: lambda, inputs: {function_name: echo, order: 42, region: "${region}", note: "from ${region}"}}
              - {id: second, type: function, inputs: {provider: aws, function_name: echo, payload: {got: "${first.order}", note: "${first.note}"}}}
            """
        let run = try await withEngine(environment) { engine, _ in
            try await engine.registerWorkflow(try workflowDocument(workflow))
            let started = try await engine.executeWorkflow("lambdas")
            return try await engine.waitForExecution(started.id)
        }
        #expect(run.status == .completed, "\(run.stepResults)")
        // moto's Lambda answers with the payload it was sent.
        #expect(run.stepResults["first"]?.outputs == ["order": 42, "note": "from eu"])
        #expect(run.stepResults["second"]?.outputs == ["got": 42, "note": "from eu"])

        var wrong = environment
        wrong["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        let refused = try await withEngine(wrong) { engine, _ in
            try await engine.registerWorkflow(
                try workflowDocument("name: refused\nsteps:\n  - {id: call, type: lambda, inputs: {function_name: echo}}"))
            let started = try await engine.executeWorkflow("refused")
            return try await engine.waitForExecution(started.id)
        }
        #expect(refused.status == .failed)
        #expect(
            refused.stepResults["call"]?.error?.hasPrefix("AWS Lambda: SignatureDoesNotMatch: The request signature we calculated does not match")
                == true, "\(refused.stepResults)")
    }

    @Test("a function error and throttling fail the attempt and the retry policy runs it again", .timeLimit(.minutes(1)))
    func lambdaErrors() async throws {
        try await TestHTTPServer.with({ request, n in
            switch n {
            case 1:
                return .init(
                    status: 429, headers: [("Content-Type", "application/json"), ("x-amzn-ErrorType", "TooManyRequestsException")],
                    body: #"{"message":"Rate exceeded","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}"#)
            case 2:
                return .init(
                    status: 200, headers: [("X-Amz-Function-Error", "Unhandled")], body: #"{"errorType":"ValueError","errorMessage":"bad order 42"}"#)
            default: return .init(status: 200, headers: [("Content-Type", "application/json")], body: #"{"ok":true}"#)
            }
        }) { server in
            let environment = [
                "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": server.url,
            ]
            let (run, errors) = try await withEngine(environment) { engine, clock in
                try await engine.registerWorkflow(
                    try workflowDocument(
                        """
                        name: flaky-fn
                        steps:
                          - {id: call, type: lambda, inputs: {function_name: "orders:live", order: 42},
                             retryPolicy: {maxAttempts: 3, backoffStrategy: fixed, initialDelay: 1s, jitter: none}}
                        """))
                let events = engine.events()
                let started = try await engine.executeWorkflow("flaky-fn")
                var errors: [String?] = []
                var iterator = events.makeAsyncIterator()
                while errors.count < 2, let event = await iterator.next() {
                    guard case .stepRetrying(_, _, _, _, let error) = event else { continue }
                    errors.append(error)
                    await clock.waitForSleepers(1)
                    clock.advance(by: .seconds(1))
                }
                return (try await engine.waitForExecution(started.id), errors)
            }
            #expect(run.status == .completed)
            let result = try #require(run.stepResults["call"])
            #expect(result.attempts == 3)
            #expect(result.outputs == ["ok": true])
            #expect(
                errors == [
                    "throttled: AWS Lambda: TooManyRequestsException: Rate exceeded",
                    "function error (Unhandled): ValueError: bad order 42",
                ])
            let first = try #require(server.requests.first)
            #expect(first.method == "POST")
            #expect(first.uri == "/2015-03-31/functions/orders%3Alive/invocations")
            #expect(first.header("X-Amz-Invocation-Type") == "RequestResponse")
            #expect(first.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") == true)
            #expect(first.header("Authorization")?.contains("/eu-west-1/lambda/aws4_request, SignedHeaders=") == true)
            #expect(first.body == #"{"order":42}"#)
        }
    }

    @Test("Azure Functions get the function key; Cloud Run gets an ID token minted from the service account", .timeLimit(.minutes(1)))
    func azureAndGCP() async throws {
        let keyFile = try ExportSupport.temporary(try Self.serviceAccount(tokenURI: "PLACEHOLDER"), extension: "json")
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        try await TestHTTPServer.with({ request, _ in
            if request.uri == "/token" {
                return .init(status: 200, headers: [("Content-Type", "application/json")], body: #"{"id_token":"id-token-for-run"}"#)
            }
            if request.uri == "/api/score" && request.header("x-functions-key") == "fn-key" {
                return .init(status: 200, headers: [("Content-Type", "application/json")], body: #"{"score":0.9}"#)
            }
            if request.uri == "/run" && request.header("Authorization") == "Bearer id-token-for-run" {
                return .init(status: 200, body: "done")
            }
            return .init(status: 403, body: "Forbidden")
        }) { server in
            try Self.serviceAccount(tokenURI: server.url + "/token").write(toFile: keyFile, atomically: true, encoding: .utf8)
            let run = try await withEngine(["GOOGLE_APPLICATION_CREDENTIALS": keyFile]) { engine, _ in
                try await engine.registerWorkflow(
                    try workflowDocument(
                        """
                        name: fns
                        steps:
                          - {id: score, type: function, inputs: {provider: azure, url: "\(server.url)/api/score", key: fn-key, order: 7}}
                          - {id: report, type: function, inputs: {provider: gcp, url: "\(server.url)/run", score: "${score.score}"}}
                          - {id: archive, type: function, inputs: {provider: gcp, url: "\(server.url)/run", of: "${report.result}"}}
                          - {id: denied, type: function, inputs: {provider: azure, url: "\(server.url)/api/score", key: wrong}}
                        """))
                let started = try await engine.executeWorkflow("fns")
                return try await engine.waitForExecution(started.id)
            }
            #expect(run.stepResults["score"]?.outputs == ["score": 0.9])
            #expect(run.stepResults["report"]?.outputs == ["result": "done"])
            #expect(run.stepResults["archive"]?.outputs == ["result": "done"])
            // One ID token for both calls to the same service.
            #expect(server.requests.filter { $0.uri == "/token" }.count == 1)
            #expect(run.stepResults["denied"]?.error == "Azure Functions: POST \(server.url)/api/score answered 403: Forbidden")
            // The assertion exchanged for the ID token names the Cloud Run URL as its audience.
            let exchange = try #require(server.requests.first { $0.uri == "/token" })
            #expect(exchange.body.hasPrefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="))
            let jwt = String(exchange.body.split(separator: "=").last!)
            let claims = try Self.claims(jwt)
            #expect(claims["target_audience"] == .string(server.url))
            #expect(claims["iss"] == "novacron@acme.iam.gserviceaccount.com")
            #expect(try await Self.verify(jwt))
            // Function keys and tokens are headers, never part of the payload.
            let scored = server.requests.filter { $0.uri == "/api/score" }.map { "\($0.header("x-functions-key") ?? "") \($0.body)" }.sorted()
            #expect(scored == [#"fn-key {"order":7}"#, "wrong {}"])
        }
    }

    /// A service account key file with a fresh RSA key.
    static func serviceAccount(tokenURI: String) throws -> String {
        let pem = try String(contentsOfFile: Repository.path("Tests/Fixtures/cloud/test-service-account-key.pem"), encoding: .utf8)
        let file: JSONValue = [
            "type": "service_account", "project_id": "acme", "client_email": "novacron@acme.iam.gserviceaccount.com",
            "private_key": .string(pem), "token_uri": .string(tokenURI),
        ]
        return file.jsonText
    }

    static func claims(_ jwt: String) throws -> JSONValue {
        let part = jwt.split(separator: ".")[1]
        var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return try JSONDecoder().decode(JSONValue.self, from: Data(base64Encoded: base64)!)
    }

    /// Checks the RS256 signature with openssl and the key's public half.
    static func verify(_ jwt: String) async throws -> Bool {
        let parts = jwt.split(separator: ".")
        var base64 = parts[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jwt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(base64Encoded: base64)!.write(to: URL(fileURLWithPath: dir + "/sig"))
        try (parts[0] + "." + parts[1]).write(toFile: dir + "/input", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "sh", "-c",
            "openssl pkey -in \(Repository.path("Tests/Fixtures/cloud/test-service-account-key.pem")) -pubout -out \(dir)/pub && openssl dgst -sha256 -verify \(dir)/pub -signature \(dir)/sig \(dir)/input",
        ]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        await process.exited()
        return process.terminationStatus == 0
    }
}
