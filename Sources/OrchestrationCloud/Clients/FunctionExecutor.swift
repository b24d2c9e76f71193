import Foundation
import Orchestration
import Synchronization

/// Runs `lambda`/`function` steps on the provider `inputs.provider` names (default `aws`):
///
/// - `aws`: Lambda Invoke (RequestResponse), signed with SigV4; `function_name`, optional
///   `qualifier`. A function error (`X-Amz-Function-Error`) or throttling (429) fails the
///   attempt, so the step's retry policy decides what happens next.
/// - `azure`: an HTTP-triggered Azure Function: POST to `url`, or to
///   `https://<app>.azurewebsites.net/api/<function_name>`; `key` (usually `${secrets.…}`) is sent
///   as `x-functions-key`.
/// - `gcp`: Cloud Run or Cloud Functions: POST to `url`, or to
///   `https://<region>-<project>.cloudfunctions.net/<function_name>`, with an ID token for that
///   URL from the service account in `GOOGLE_APPLICATION_CREDENTIALS` (or `token`).
///
/// The payload is `inputs.payload`, or every input that does not say where the function is.
/// A JSON object answer becomes the step's outputs; any other answer is the output `result`.
public struct FunctionExecutor: StepExecutor {
    let environment: [String: String]
    let home: String
    /// What one executor resolved once and reuses across steps: the AWS settings (read from the
    /// variables or the credentials file) and Google ID tokens (a network round trip each).
    let cache = CredentialCache()

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, home: String = NSHomeDirectory()) {
        self.environment = environment
        self.home = home
    }

    public func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        let provider = request.text("provider")?.lowercased() ?? "aws"
        do {
            switch provider {
            case "aws": return try await lambda(request)
            case "azure": return try await azure(request)
            case "gcp": return try await gcp(request)
            default: return .failure("inputs.provider: '\(provider)' is not aws, azure or gcp")
            }
        } catch is CancellationError {
            return StepOutcome.cancelled()
        } catch let error as AWSEnvironment.Missing {
            return .failure(error.description)
        } catch {
            return .failure("\(error)")
        }
    }

    static func payload(_ inputs: [String: JSONValue]) -> JSONValue {
        if let payload = inputs["payload"] { return payload }
        return .object(inputs.filter { !LambdaPayload.addressing.contains($0.key) })
    }

    static func outputs(_ response: CloudResponse) -> [String: JSONValue] {
        if case .object(let fields)? = response.json { return fields }
        if let json = response.json { return ["result": json] }
        return response.body.isEmpty ? [:] : ["result": .string(response.text)]
    }

    // MARK: AWS Lambda

    func lambda(_ request: StepRequest) async throws -> StepOutcome {
        guard let name = request.text("function_name") ?? request.text("function") else {
            return .failure("a Lambda step needs inputs.function_name")
        }
        let aws = AWSClient(environment: try cache.aws { try AWSEnvironment.resolve(environment, home: home) })
        let context = Base64URL.standard(
            Array(#"{"custom":{"novacron_idempotency_key":\#(JSONValue.string(request.idempotencyKey).jsonText)}}"#.utf8))
        let response = try await aws.send(
            service: "lambda", name: "AWS Lambda", method: "POST",
            path: "/2015-03-31/functions/\(SigV4.encode(name))/invocations",
            query: request.text("qualifier").map { "Qualifier=" + SigV4.encode($0) } ?? "",
            headers: [("content-type", "application/json"), ("x-amz-invocation-type", "RequestResponse"), ("x-amz-client-context", context)],
            body: Array(Self.payload(request.inputs).jsonText.utf8),
            timeout: request.timeout ?? .seconds(900))
        let log = "Lambda \(name) → \(response.status)\n" + String(response.text.prefix(4096))
        if response.status == 429 {
            let error = AWSClient.error(response, service: "AWS Lambda")
            return .failure("throttled: \(error)", log: log)
        }
        guard (200..<300).contains(response.status) else {
            return .failure(AWSClient.error(response, service: "AWS Lambda").description, log: log)
        }
        if let kind = response.header("x-amz-function-error") {
            let json = response.json
            let type = json?["errorType"]?.text ?? kind
            let message = json?["errorMessage"]?.text ?? String(response.text.prefix(500))
            return .failure("function error (\(kind)): \(type): \(message)", outputs: Self.outputs(response), log: log)
        }
        return .success(outputs: Self.outputs(response), log: log)
    }

    // MARK: Azure Functions

    func azure(_ request: StepRequest) async throws -> StepOutcome {
        var url = request.text("url")
        if url == nil, let app = request.text("app"), let name = request.text("function_name") {
            url = "https://\(app).azurewebsites.net/api/\(name)"
        }
        guard let url else { return .failure("an Azure function step needs inputs.url, or inputs.app and inputs.function_name") }
        var headers: [(name: String, value: String)] = [("content-type", "application/json"), ("idempotency-key", request.idempotencyKey)]
        if let key = request.text("key") { headers.append(("x-functions-key", key)) }
        return try await post(url, headers: headers, request: request, service: "Azure Functions")
    }

    // MARK: GCP Cloud Run / Cloud Functions

    func gcp(_ request: StepRequest) async throws -> StepOutcome {
        var url = request.text("url")
        if url == nil, let name = request.text("function_name") {
            let project = request.text("project") ?? environment["GOOGLE_CLOUD_PROJECT"]
            let region = request.text("region") ?? environment["GOOGLE_CLOUD_REGION"]
            guard let project, let region else {
                return .failure(
                    "a GCP function step needs inputs.url, or inputs.function_name with a project and region (inputs or GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_REGION)"
                )
            }
            url = "https://\(region)-\(project).cloudfunctions.net/\(name)"
        }
        guard let url else { return .failure("a GCP function step needs inputs.url or inputs.function_name") }
        var headers: [(name: String, value: String)] = [("content-type", "application/json"), ("idempotency-key", request.idempotencyKey)]
        if let token = request.text("token") {
            headers.append(("authorization", "Bearer \(token)"))
        } else if environment["GOOGLE_APPLICATION_CREDENTIALS"].map({ !$0.isEmpty }) == true {
            let audience = URL(string: url).map { "\($0.scheme ?? "https")://\($0.hostHeader)" } ?? url
            let token = try await cache.idToken(audience: audience) { try await GoogleCredentials.resolve(environment).idToken(audience: audience) }
            headers.append(("authorization", "Bearer \(token)"))
        }
        return try await post(url, headers: headers, request: request, service: "Google Cloud")
    }

    func post(_ url: String, headers: [(name: String, value: String)], request: StepRequest, service: String) async throws -> StepOutcome {
        let response = try await CloudHTTP.send(
            "POST", url, headers: headers, body: Array(Self.payload(request.inputs).jsonText.utf8), service: service,
            timeout: request.timeout ?? .seconds(900))
        let log = "POST \(url) → \(response.status)\n" + String(response.text.prefix(4096))
        guard (200..<300).contains(response.status) else {
            var message = "\(service): POST \(url) answered \(response.status)"
            if !response.body.isEmpty { message += ": " + String(response.text.prefix(300)) }
            if response.status == 401 || response.status == 403, service == "Google Cloud", headers.allSatisfy({ $0.name != "authorization" }) {
                message += " (set GOOGLE_APPLICATION_CREDENTIALS to a service account allowed to invoke it)"
            }
            return .failure(message, outputs: Self.outputs(response), log: log)
        }
        return .success(outputs: Self.outputs(response), log: log)
    }
}

extension Base64URL {
    static func standard(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}

extension ExecutorRegistry {
    /// Runs `lambda`/`function` steps on AWS Lambda, Azure Functions and Cloud Run / Cloud Functions.
    public mutating func registerCloudFunctions(environment: [String: String] = ProcessInfo.processInfo.environment) {
        register(FunctionExecutor(environment: environment), for: .lambda)
    }
}

/// Credentials kept between steps. Failures are not kept: the next step tries again.
final class CredentialCache: Sendable {
    /// Google ID tokens last an hour; one is reused for 50 minutes.
    static let idTokenLifetime: TimeInterval = 50 * 60

    private let awsEnvironment = Mutex<AWSEnvironment?>(nil)
    private let idTokens = Mutex<[String: (token: String, until: Date)]>([:])

    func aws(_ resolve: () throws -> AWSEnvironment) throws -> AWSEnvironment {
        if let known = awsEnvironment.withLock({ $0 }) { return known }
        let resolved = try resolve()
        awsEnvironment.withLock { $0 = resolved }
        return resolved
    }

    func idToken(audience: String, now: Date = Date(), fetch: () async throws -> String) async throws -> String {
        if let kept = idTokens.withLock({ $0[audience] }), kept.until > now { return kept.token }
        let token = try await fetch()
        idTokens.withLock { $0[audience] = (token, now.addingTimeInterval(Self.idTokenLifetime)) }
        return token
    }
}
