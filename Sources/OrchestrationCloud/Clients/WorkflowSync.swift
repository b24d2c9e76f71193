import Foundation
import Orchestration

/// What `sync` did.
public struct SyncResult: Sendable, Hashable, CustomStringConvertible {
    public enum Action: String, Sendable, Hashable {
        case created, updated, unchanged
    }

    public var provider: CloudTarget
    public var action: Action
    /// The deployed definition's id: state machine ARN, resource id, workflow name.
    public var id: String

    public init(provider: CloudTarget, action: Action, id: String) {
        self.provider = provider
        self.action = action
        self.id = id
    }

    public var description: String { "\(action.rawValue) \(id) on \(provider)" }
}

/// Where `sync` deploys to, beyond what the standard variables say.
public struct SyncOptions: Sendable, Hashable {
    /// AWS: the IAM role a new state machine runs as (`--aws-role-arn`).
    public var awsRoleArn: String?
    /// Azure: resource group and location of the logic app (`AZURE_RESOURCE_GROUP`, `AZURE_LOCATION`).
    public var azureResourceGroup: String?
    public var azureLocation: String?
    /// GCP: the region of the workflow (`GOOGLE_CLOUD_REGION`).
    public var gcpRegion: String?

    public init(awsRoleArn: String? = nil, azureResourceGroup: String? = nil, azureLocation: String? = nil, gcpRegion: String? = nil) {
        self.awsRoleArn = awsRoleArn
        self.azureResourceGroup = azureResourceGroup
        self.azureLocation = azureLocation
        self.gcpRegion = gcpRegion
    }
}

/// Creates or updates a workflow's deployed definition: describe it, then create it when it is
/// not there, update it when it differs, and leave it when it is the same (so running sync twice
/// changes nothing the second time).
///
/// ```swift
/// let asl = try WorkflowExporter.export(graph, to: .aws)
/// let result = try await WorkflowSync(environment: ProcessInfo.processInfo.environment).sync(asl, name: "deploy")
/// print(result)   // created arn:aws:states:…:stateMachine:deploy on AWS Step Functions
/// ```
public struct WorkflowSync: Sendable {
    public var environment: [String: String]
    public var options: SyncOptions
    public var home: String
    /// How the wait between polls of a long-running operation is spent (tests pass a clock's).
    public var pause: @Sendable (Duration) async throws -> Void

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, options: SyncOptions = SyncOptions(), home: String = NSHomeDirectory(),
        pause: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.environment = environment
        self.options = options
        self.home = home
        self.pause = pause
    }

    func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }

    public func sync(_ export: ExportResult, name: String, description: String? = nil) async throws -> SyncResult {
        switch export.target {
        case .aws: return try await stepFunctions(export, name: name)
        case .azure: return try await logicApps(export, name: name)
        case .gcp: return try await gcpWorkflows(export, name: name, description: description)
        case .argo:
            throw CloudError(service: "Argo Workflows", message: "sync talks to cloud providers; apply an Argo document with kubectl or argo submit")
        }
    }

    // MARK: AWS Step Functions

    func stepFunctions(_ export: ExportResult, name: String) async throws -> SyncResult {
        let aws = AWSClient(environment: try AWSEnvironment.resolve(environment, home: home))
        let service = "AWS Step Functions"
        func call(_ operation: String, _ body: JSONValue) async throws -> JSONValue {
            try await aws.json(service: "states", name: service, target: "AWSStepFunctions.\(operation)", body)
        }
        // Describe: find it by name.
        var next: String?
        var arn: String?
        repeat {
            var request: [String: JSONValue] = ["maxResults": 1000]
            if let next { request["nextToken"] = .string(next) }
            let page = try await call("ListStateMachines", .object(request))
            if case .array(let machines)? = page["stateMachines"] {
                arn = machines.first { $0["name"]?.stringValue == name }?["stateMachineArn"]?.stringValue
            }
            next = page["nextToken"]?.stringValue
        } while arn == nil && next != nil
        let definition = export.text
        if let arn {
            let current = try await call("DescribeStateMachine", ["stateMachineArn": .string(arn)])
            let deployed = current["definition"]?.stringValue.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
            if deployed == export.document { return SyncResult(provider: .aws, action: .unchanged, id: arn) }
            var update: [String: JSONValue] = ["stateMachineArn": .string(arn), "definition": .string(definition)]
            if let role = options.awsRoleArn { update["roleArn"] = .string(role) }
            _ = try await call("UpdateStateMachine", .object(update))
            return SyncResult(provider: .aws, action: .updated, id: arn)
        }
        guard let role = options.awsRoleArn else {
            throw CloudError(
                service: service,
                message: "state machine '\(name)' does not exist yet, and creating it needs the IAM role it runs as: pass --aws-role-arn")
        }
        let created = try await call(
            "CreateStateMachine", ["name": .string(name), "definition": .string(definition), "roleArn": .string(role), "type": "STANDARD"])
        return SyncResult(provider: .aws, action: .created, id: created["stateMachineArn"]?.stringValue ?? name)
    }

    // MARK: Azure Logic Apps (Resource Manager)

    static let logicAppsAPIVersion = "2019-05-01"

    func logicApps(_ export: ExportResult, name: String) async throws -> SyncResult {
        let service = "Azure Resource Manager"
        guard let subscription = value("AZURE_SUBSCRIPTION_ID") else {
            throw CloudError(service: service, message: "no Azure subscription: set AZURE_SUBSCRIPTION_ID")
        }
        guard let group = options.azureResourceGroup ?? value("AZURE_RESOURCE_GROUP") else {
            throw CloudError(service: service, message: "no resource group: pass --resource-group or set AZURE_RESOURCE_GROUP")
        }
        if let location = options.azureLocation ?? value("AZURE_LOCATION"),
            location.range(of: #"^[a-z][a-z0-9]*$"#, options: .regularExpression) == nil
        {
            let suggestion = location.lowercased().filter { $0.isLetter || $0.isNumber }
            throw CloudError(
                service: service, message: "'\(location)' is not an Azure location name; write it like '\(suggestion)' (az account list-locations)")
        }
        var endpoint = value("AZURE_RESOURCE_MANAGER_ENDPOINT") ?? "https://management.azure.com"
        if endpoint.hasSuffix("/") { endpoint.removeLast() }
        let token = try await AzureCredentials.resolve(environment).token(scope: "https://management.azure.com/.default")
        let id = "/subscriptions/\(subscription)/resourceGroups/\(group)/providers/Microsoft.Logic/workflows/\(name)"
        let url = endpoint + id + "?api-version=\(Self.logicAppsAPIVersion)"
        let headers: [(name: String, value: String)] = [("authorization", "Bearer \(token)"), ("content-type", "application/json")]
        let current = try await CloudHTTP.send("GET", url, headers: headers, service: service)
        var location = options.azureLocation ?? value("AZURE_LOCATION")
        let exists: Bool
        switch current.status {
        case 200:
            exists = true
            if current.json?["properties"]?["definition"] == export.document { return SyncResult(provider: .azure, action: .unchanged, id: id) }
            location = current.json?["location"]?.stringValue ?? location
        case 404:
            exists = false
        default:
            throw Self.azureError(current, service: service)
        }
        guard let location else {
            throw CloudError(
                service: service,
                message: "logic app '\(name)' does not exist yet, and creating it needs a location: pass --location or set AZURE_LOCATION")
        }
        let body: JSONValue = ["location": .string(location), "properties": ["state": "Enabled", "definition": export.document]]
        let put = try await CloudHTTP.send("PUT", url, headers: headers, body: Array(body.jsonText.utf8), service: service)
        guard (200..<300).contains(put.status) else { throw Self.azureError(put, service: service) }
        return SyncResult(provider: .azure, action: exists ? .updated : .created, id: id)
    }

    static func azureError(_ response: CloudResponse, service: String) -> CloudError {
        let error = response.json?["error"]
        return CloudError(
            service: service, code: error?["code"]?.stringValue,
            message: error?["message"]?.stringValue ?? (response.text.isEmpty ? "HTTP \(response.status)" : String(response.text.prefix(500))),
            status: response.status)
    }

    // MARK: GCP Workflows

    func gcpWorkflows(_ export: ExportResult, name: String, description: String?) async throws -> SyncResult {
        let service = "GCP Workflows"
        let credentials = try GoogleCredentials.resolve(environment)
        guard let project = value("GOOGLE_CLOUD_PROJECT") ?? credentials.projectID else {
            throw CloudError(service: service, message: "no project: set GOOGLE_CLOUD_PROJECT")
        }
        guard let region = options.gcpRegion ?? value("GOOGLE_CLOUD_REGION") else {
            throw CloudError(service: service, message: "no region: pass --region or set GOOGLE_CLOUD_REGION")
        }
        guard region.range(of: #"^[a-z]+-[a-z]+[0-9]+$"#, options: .regularExpression) != nil else {
            throw CloudError(service: service, message: "'\(region)' is not a GCP region name like europe-west1")
        }
        var endpoint = value("CLOUDSDK_API_ENDPOINT_OVERRIDES_WORKFLOWS") ?? "https://workflows.googleapis.com/"
        if !endpoint.hasSuffix("/") { endpoint += "/" }
        let token = try await credentials.accessToken(scope: "https://www.googleapis.com/auth/cloud-platform")
        let headers: [(name: String, value: String)] = [("authorization", "Bearer \(token)"), ("content-type", "application/json")]
        let parent = "projects/\(project)/locations/\(region)"
        let id = "\(parent)/workflows/\(name)"
        let current = try await CloudHTTP.send("GET", endpoint + "v1/" + id, headers: headers, service: service)
        var body: [String: JSONValue] = ["sourceContents": .string(export.text)]
        if let description { body["description"] = .string(String(description.prefix(1000))) }
        switch current.status {
        case 200:
            if current.json?["sourceContents"]?.stringValue == export.text { return SyncResult(provider: .gcp, action: .unchanged, id: id) }
            let patch = try await CloudHTTP.send(
                "PATCH", endpoint + "v1/" + id + "?updateMask=sourceContents,description", headers: headers,
                body: Array(JSONValue.object(body).jsonText.utf8), service: service)
            guard (200..<300).contains(patch.status) else { throw Self.googleError(patch, service: service) }
            try await awaitOperation(patch, endpoint: endpoint, headers: headers, service: service)
            return SyncResult(provider: .gcp, action: .updated, id: id)
        case 404:
            let create = try await CloudHTTP.send(
                "POST", endpoint + "v1/" + parent + "/workflows?workflowId=" + name, headers: headers,
                body: Array(JSONValue.object(body).jsonText.utf8), service: service)
            guard (200..<300).contains(create.status) else { throw Self.googleError(create, service: service) }
            try await awaitOperation(create, endpoint: endpoint, headers: headers, service: service)
            return SyncResult(provider: .gcp, action: .created, id: id)
        default:
            throw Self.googleError(current, service: service)
        }
    }

    /// Follows a long-running operation until it is done (polling at 1, 2, 4… s, at most 5 minutes
    /// in all); its error, such as a definition the service refuses, is thrown in its words.
    func awaitOperation(_ response: CloudResponse, endpoint: String, headers: [(name: String, value: String)], service: String) async throws {
        var operation = response.json ?? [:]
        var delay = 1.0, waited = 0.0
        while operation["done"] != .bool(true) {
            guard let name = operation["name"]?.stringValue else { return }
            guard waited < 300 else {
                throw CloudError(service: service, message: "operation \(name) is still running after 5 minutes; it may yet finish")
            }
            try await pause(.seconds(delay))
            waited += delay
            delay = min(delay * 2, 30)
            let poll = try await CloudHTTP.send("GET", endpoint + "v1/" + name, headers: headers, service: service)
            guard (200..<300).contains(poll.status) else { throw Self.googleError(poll, service: service) }
            operation = poll.json ?? [:]
        }
        if let error = operation["error"], error != .null {
            throw CloudError(
                service: service, code: error["code"].map { "code \($0.text)" }, message: error["message"]?.text ?? error.jsonText)
        }
    }

    static func googleError(_ response: CloudResponse, service: String) -> CloudError {
        let error = response.json?["error"]
        return CloudError(
            service: service, code: error?["status"]?.stringValue,
            message: error?["message"]?.stringValue ?? (response.text.isEmpty ? "HTTP \(response.status)" : String(response.text.prefix(500))),
            status: response.status)
    }
}
