import Configuration
import Foundation
import Logging
import Orchestration
import OrchestrationPostgres
import OrchestrationSQLite
import SystemPackage
import Yams

/// What `novacron serve` runs with, read through swift-configuration from, in order of precedence:
/// command-line flags, environment variables (`NOVACRON_PORT`, `NOVACRON_DRAIN_GRACE`, …), a YAML
/// file (`--config`, or `NOVACRON_CONFIG`), then the defaults.
///
/// ```yaml
/// # novacron.yaml
/// host: 0.0.0.0
/// port: 8080
/// db: /var/lib/novacron/novacron.db   # or databaseURL: postgres://novacron@db:5432/novacron
/// tokensFile: /etc/novacron/tokens.yaml
/// drainGrace: 45s
/// maxParallel: 32
/// autoOptimize: true      # apply safe suggestions at or above minConfidence
/// minConfidence: 0.9
/// ```
public struct ServeSettings: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var insecure = false
    public var tokensFile: String?
    /// The SQLite store; `nil` means the default path (or `memory`).
    public var db: String?
    public var memory = false
    /// The PostgreSQL store (`postgres://user:password@host:port/database`) instead of the SQLite
    /// file: what the nodes of a cluster share (docs/cluster.md).
    public var databaseURL: String?
    /// On PostgreSQL, how long this node's hold on an execution lasts unrenewed: after a node
    /// dies, another takes its executions over once this has passed.
    public var leaseDuration: Duration = .seconds(5)
    /// `processCrash` or `powerLoss`.
    public var durability: SQLiteStore.Durability = .processCrash
    public var secretsFile: String?
    public var maxParallel = 64
    public var drainGrace: Duration = .seconds(30)
    /// Where metric triggers read Prometheus unless they name a `url`.
    public var prometheusURL: String?
    /// Host names clients reach the server by; empty: loopback names on loopback, any otherwise.
    public var allowedHosts: [String] = []
    /// How long a connection may send nothing before it is closed.
    public var idleTimeout: Duration = .seconds(30)
    /// How long a request head may take to arrive in full.
    public var headerTimeout: Duration = .seconds(30)
    /// Connections served at once.
    public var maxConnections = 512
    /// The largest workflow definition accepted, in bytes (the CLI's default too).
    public var maxDefinitionBytes = WorkflowDecoder.defaultMaximumBytes
    /// Logging: `logLevel` (default info), `logFormat` (text or json), `logFile` (default stderr).
    public var log = LogSettings()
    /// The learning engine's settings (`autoOptimize`, `learningRate`, `minConfidence`, `minExecutions`).
    public var optimization = OptimizationConfig()
    /// Where traces go (`tracesEndpoint`, `tracesProtocol`, `serviceName`, which the standard
    /// `OTEL_*` variables override); `nil`: no tracing.
    public var tracing: TraceExport?
    /// Executions, events and learned-from observations older than this are deleted, every
    /// twelfth of the age and at most an hour apart (``Retention``); `nil` (the default):
    /// everything is kept.
    public var retention: Duration?

    public init() {}

    /// The settings a file, the environment (upper snake case after `NOVACRON_`) and flags may set:
    /// the one list of them.
    public enum Key: String, Sendable, CaseIterable {
        case host, port, insecure, tokensFile, db, memory, databaseURL, leaseDuration, durability, secretsFile, maxParallel, drainGrace, prometheusURL
        case allowedHosts, idleTimeout, headerTimeout, maxConnections, maxDefinitionBytes, logLevel, logFormat, logFile
        case autoOptimize, learningRate, minConfidence, minExecutions
        case tracesEndpoint, tracesProtocol, serviceName, retention
    }

    /// The keys' names, as a file spells them.
    public static var keys: [String] { Key.allCases.map(\.rawValue) }

    /// Resolves the settings. `flags` holds what was given on the command line, by key (only what
    /// was given: a flag left out must not hide the environment or the file).
    public static func resolve(
        flags: [Key: String], environment: [String: String], configFile: String?
    ) async throws -> ServeSettings {
        var providers: [any ConfigProvider] = [
            InMemoryProvider(
                name: "flags",
                values: Dictionary(
                    uniqueKeysWithValues: flags.map { (AbsoluteConfigKey([$0.key.rawValue]), ConfigValue(.string($0.value), isSecret: false)) })),
            EnvironmentVariablesProvider(environmentVariables: environment.filter { $0.key.hasPrefix("NOVACRON_") }).prefixKeys(with: ["novacron"]),
        ]
        if let path = configFile ?? environment["NOVACRON_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            try checkFile(path)
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(path)))
            } catch {
                throw EngineError(.invalidInput, "\(path): \(error)")
            }
        }
        let config = ConfigReader(providers: providers)
        var s = ServeSettings()
        func text(_ key: Key) -> String? { config.string(forKey: ConfigKey(key.rawValue)) }
        func bool(_ key: Key) throws -> Bool? { try text(key).map { try Self.bool($0, key: key) } }
        func int(_ key: Key, _ range: ClosedRange<Int>) throws -> Int? {
            guard let t = text(key) else { return nil }
            guard let v = Int(t), range.contains(v) else {
                throw EngineError(.invalidInput, "\(key): '\(t)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return v
        }
        if let v = text(.host) { s.host = v }
        if let v = try int(.port, 0...65535) { s.port = v }
        if let v = try bool(.insecure) { s.insecure = v }
        s.tokensFile = text(.tokensFile)
        // The store is one choice, made by the first source that names one (flags, then the
        // environment, then the file): `--database-url` beats a NOVACRON_DB in the environment.
        let storeKeys: [Key] = [.db, .memory, .databaseURL]
        let fromFlags = flags.filter { storeKeys.contains($0.key) }
        let fromEnvironment = Dictionary(
            uniqueKeysWithValues: storeKeys.compactMap { key in
                environment["NOVACRON_" + Self.environmentName(key)].flatMap { $0.isEmpty ? nil : (key, $0) }
            })
        if !fromFlags.isEmpty || !fromEnvironment.isEmpty {
            let chosen = fromFlags.isEmpty ? fromEnvironment : fromFlags
            s.db = chosen[.db]
            s.databaseURL = chosen[.databaseURL]
            if let v = chosen[.memory] { s.memory = try Self.bool(v, key: .memory) }
        } else {
            s.db = text(.db)
            if let v = try bool(.memory) { s.memory = v }
            s.databaseURL = text(.databaseURL)
        }
        if let v = text(.durability) {
            guard let level = SQLiteStore.Durability(rawValue: v) else {
                throw EngineError(.invalidInput, "durability: '\(v)' is neither processCrash nor powerLoss")
            }
            s.durability = level
        }
        s.secretsFile = text(.secretsFile)
        if let v = try int(.maxParallel, 1...100_000) { s.maxParallel = v }
        if let v = text(.leaseDuration) {
            s.leaseDuration = try DurationText.parse(v, named: "leaseDuration", within: .seconds(1) ... .seconds(3600))
        }
        if let v = text(.drainGrace) {
            do { s.drainGrace = try DurationText.parse(v) } catch { throw EngineError(.invalidInput, "drainGrace: \(error.message)") }
        }
        s.prometheusURL = text(.prometheusURL)
        if let v = text(.allowedHosts) {
            s.allowedHosts = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        }
        if let v = text(.idleTimeout) { s.idleTimeout = try DurationText.parse(v, named: "idleTimeout", within: .seconds(1) ... .seconds(3600)) }
        if let v = text(.headerTimeout) {
            s.headerTimeout = try DurationText.parse(v, named: "headerTimeout", within: .seconds(1) ... .seconds(3600))
        }
        if let v = try int(.maxConnections, 1...1_000_000) { s.maxConnections = v }
        if let v = try int(.maxDefinitionBytes, 1024...(1 << 30)) { s.maxDefinitionBytes = v }
        s.log = try LogSettings.resolve(level: text(.logLevel), format: text(.logFormat), file: text(.logFile), defaultLevel: .info)
        if let v = try bool(.autoOptimize) { s.optimization.enableAutoOptimization = v }
        func fraction(_ key: Key) throws -> Double? {
            guard let t = text(key) else { return nil }
            guard let v = Double(t), v > 0, v <= 1 else { throw EngineError(.invalidInput, "\(key): '\(t)' is not a number above 0 and at most 1") }
            return v
        }
        if let v = try fraction(.learningRate) { s.optimization.learningRate = v }
        if let v = try fraction(.minConfidence) { s.optimization.minConfidence = v }
        if let v = try int(.minExecutions, 2...1_000_000) { s.optimization.minimumExecutions = v }
        if let v = text(.retention), v != "none" {
            do { s.retention = try DurationText.parse(v) } catch { throw EngineError(.invalidInput, "retention: \(error.message)") }
            guard let age = s.retention, age >= .seconds(3600) else {
                throw EngineError(.invalidInput, "retention: '\(v)' is shorter than 1h; give an age like 30d, or none to keep everything")
            }
        }
        s.tracing = try TraceExport.resolve(
            environment: environment, endpoint: text(.tracesEndpoint), wireProtocol: text(.tracesProtocol), serviceName: text(.serviceName))
        if s.memory && s.db != nil { throw EngineError(.invalidInput, "db and memory exclude each other") }
        if s.databaseURL != nil && (s.memory || s.db != nil) {
            throw EngineError(
                .invalidInput, "databaseURL (NOVACRON_DATABASE_URL) excludes \(s.memory ? "memory" : "db"): the store is one or the other")
        }
        return s
    }

    static func bool(_ text: String, key: Key) throws -> Bool {
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw EngineError(.invalidInput, "\(key): '\(text)' is not true or false")
        }
    }

    /// A key's environment variable after `NOVACRON_`: upper snake case (`databaseURL` → `DATABASE_URL`).
    static func environmentName(_ key: Key) -> String {
        var out = ""
        let characters = Array(key.rawValue)
        for (i, c) in characters.enumerated() {
            if c.isUppercase, i > 0, characters[i - 1].isLowercase { out += "_" }
            out += c.uppercased()
        }
        return out
    }

    /// The server's configuration from these settings, with these API tokens.
    public func serverConfiguration(tokens: APITokens) -> ServerConfiguration {
        var configuration = ServerConfiguration(
            host: host, port: port, insecure: insecure, tokens: tokens, drainGrace: drainGrace, prometheusURL: prometheusURL,
            allowedHosts: allowedHosts, idleTimeout: idleTimeout, maxConnections: maxConnections, maxDefinitionBytes: maxDefinitionBytes)
        configuration.retention = retention.map { Retention(age: $0) }
        configuration.headerTimeout = headerTimeout
        return configuration
    }

    /// The store these settings name: in memory (everything in this process, with the same API:
    /// versions, attempts, lists), the PostgreSQL database at ``databaseURL``, or the SQLite file
    /// (`~/.novacron/novacron.db` by default).
    public func openStore() async throws(StoreError) -> any Store {
        if memory { return InMemoryStore() }
        if let databaseURL { return try await PostgresStore(url: databaseURL, leaseDuration: leaseDuration, role: "serve") }
        let path = db ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".novacron/novacron.db").path
        return try SQLiteStore(path: path, durability: durability)
    }

    /// A settings file must be a mapping of known keys; a misspelt key is an error, not a silent default.
    static func checkFile(_ path: String) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw EngineError(.invalidInput, "\(path): cannot read the settings file (\(error.localizedDescription))")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw EngineError(.invalidInput, "\(path): \(error)") }
        guard let node else { return }
        guard let mapping = node.mapping else { throw EngineError(.invalidInput, "\(path): the settings file must be a mapping of key: value") }
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard keys.contains(name) else {
                let line = key.mark.map { ":\($0.line):\($0.column)" } ?? ""
                throw EngineError(
                    .invalidInput,
                    "\(path)\(line): unknown setting '\(name)'\(DidYouMean.hint(name, among: keys)); settings are \(keys.joined(separator: ", "))")
            }
            guard value.scalar != nil else {
                let line = value.mark.map { ":\($0.line):\($0.column)" } ?? ""
                throw EngineError(.invalidInput, "\(path)\(line): \(name) must be a single value")
            }
        }
    }
}
