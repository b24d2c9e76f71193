import Configuration
import Foundation
import Logging
import Orchestration
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
/// db: /var/lib/novacron/novacron.db
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
    /// Connections served at once.
    public var maxConnections = 512
    /// The largest workflow definition accepted, in bytes (the CLI's default too).
    public var maxDefinitionBytes = WorkflowDecoder.defaultMaximumBytes
    /// Logging: `logLevel` (default info), `logFormat` (text or json), `logFile` (default stderr).
    public var log = LogSettings()
    /// The learning engine's settings (`autoOptimize`, `learningRate`, `minConfidence`, `minExecutions`).
    public var optimization = OptimizationConfig()

    public init() {}

    /// The settings a file, the environment (upper snake case after `NOVACRON_`) and flags may set:
    /// the one list of them.
    public enum Key: String, Sendable, CaseIterable {
        case host, port, insecure, tokensFile, db, memory, durability, secretsFile, maxParallel, drainGrace, prometheusURL
        case allowedHosts, idleTimeout, maxConnections, maxDefinitionBytes, logLevel, logFormat, logFile
        case autoOptimize, learningRate, minConfidence, minExecutions
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
        func bool(_ key: Key) throws -> Bool? {
            guard let t = text(key) else { return nil }
            switch t.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: throw EngineError(.invalidInput, "\(key): '\(t)' is not true or false")
            }
        }
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
        s.db = text(.db)
        if let v = try bool(.memory) { s.memory = v }
        if let v = text(.durability) {
            guard let level = SQLiteStore.Durability(rawValue: v) else {
                throw EngineError(.invalidInput, "durability: '\(v)' is neither processCrash nor powerLoss")
            }
            s.durability = level
        }
        s.secretsFile = text(.secretsFile)
        if let v = try int(.maxParallel, 1...100_000) { s.maxParallel = v }
        if let v = text(.drainGrace) {
            do { s.drainGrace = try DurationText.parse(v) } catch { throw EngineError(.invalidInput, "drainGrace: \(error.message)") }
        }
        s.prometheusURL = text(.prometheusURL)
        if let v = text(.allowedHosts) {
            s.allowedHosts = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        }
        if let v = text(.idleTimeout) {
            do { s.idleTimeout = try DurationText.parse(v) } catch { throw EngineError(.invalidInput, "idleTimeout: \(error.message)") }
            guard s.idleTimeout >= .seconds(1), s.idleTimeout <= .seconds(3600) else {
                throw EngineError(.invalidInput, "idleTimeout: '\(v)' is not from 1s to 1h")
            }
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
        if s.memory && s.db != nil { throw EngineError(.invalidInput, "db and memory exclude each other") }
        return s
    }

    /// The server's configuration from these settings, with these API tokens.
    public func serverConfiguration(tokens: APITokens) -> ServerConfiguration {
        ServerConfiguration(
            host: host, port: port, insecure: insecure, tokens: tokens, drainGrace: drainGrace, prometheusURL: prometheusURL,
            allowedHosts: allowedHosts, idleTimeout: idleTimeout, maxConnections: maxConnections, maxDefinitionBytes: maxDefinitionBytes)
    }

    /// The store these settings name: in memory (everything in this process, with the same API:
    /// versions, attempts, lists), or the SQLite file (`~/.novacron/novacron.db` by default).
    public func openStore() throws(StoreError) -> any Store {
        if memory { return InMemoryStore() }
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
