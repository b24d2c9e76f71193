import Foundation
import Logging
import Orchestration
import PostgresNIO
import Synchronization

/// The store on PostgreSQL, for several nodes sharing one database (docs/cluster.md).
///
/// It implements every concern of ``Store`` as ``SQLiteStore`` does, one `PostgresStore+Concern.swift`
/// file each, with the same tables (`+Schema`: named, append-only migrations, run under an advisory
/// lock so that nodes starting together migrate once). Queries take bind parameters only. Each
/// batch of writes (``apply(_:)``) is one transaction.
///
/// The connection pool (postgres-nio's `PostgresClient`) runs for as long as the store: ``close()``
/// stops it.
///
/// ```swift
/// let store = try await PostgresStore(url: "postgres://novacron@127.0.0.1:5432/novacron")
/// ```
public final class PostgresStore: Sendable {
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger: Logger
    /// Where the database is, without its password: for messages.
    public let location: String
    /// This process as a node of the cluster, and the executions it holds (``ExecutionLeases``).
    let node: Node
    /// How many closed connections a read may be handed before it says the database is unavailable.
    let readTries: Int
    public let leaseDuration: Duration
    let book = Mutex(LeaseBook())
    /// Wake-ups (commands for this node, steps queued, outcomes written, events appended): a `LISTEN` task per
    /// channel, started on its first wait, and the bell it rings.
    let listeners = Mutex<[String: Task<Void, Never>]>([:])
    let bells = [
        PostgresStore.commandChannel: Doorbell(), PostgresStore.stepChannel: Doorbell(), PostgresStore.outcomeChannel: Doorbell(),
        PostgresStore.eventChannel: Doorbell(),
    ]

    /// Connects to the database at `url` (`postgres://user:password@host:port/database`, with
    /// `?sslmode=disable|prefer|require`), and migrates it.
    /// - Parameters:
    ///   - leaseDuration: how long this node's hold on an execution lasts without renewal (the
    ///     engine renews it every third of that); after it, another node may take the execution.
    ///   - role: what this node is, for `novacron cluster status` (`serve`, `run`, `worker`).
    public init(
        url: String, maximumConnections: Int = 20, leaseDuration: Duration = .seconds(5), role: String = "client",
        logger: Logger = PostgresStore.quietLogger
    ) async throws(StoreError) {
        let target = try PostgresURL(url)
        location = target.redacted
        node = Node(role: role)
        readTries = max(4, maximumConnections + 1)
        self.leaseDuration = max(.milliseconds(300), leaseDuration)
        // One connection first, so an unreachable server, a refused login or a missing database
        // is said at once and plainly (the pool would retry with backoff for a minute).
        do {
            let probe = try await PostgresConnection.connect(configuration: target.connection, id: 0, logger: logger)
            try? await probe.close()
        } catch {
            throw Self.describe(error, doing: "connect", location: target.redacted)
        }
        var configuration = PostgresClient.Configuration(
            host: target.host, port: target.port, username: target.user, password: target.password, database: target.database,
            tls: target.tls)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        // A node frozen (SIGSTOP, a VM paused) inside a transaction would hold its row locks, and
        // so its executions, for ever: the server ends such a transaction after a lease (two
        // seconds at least, so a busy machine's short stalls do not end healthy transactions).
        let idle = max(2000, Int(self.leaseDuration.seconds * 1000))
        configuration.options.additionalStartupParameters = [
            ("idle_in_transaction_session_timeout", String(idle)), ("application_name", "novacron \(role)"),
        ]
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
        do {
            // Tried again while the database drops the connection (restarting, or a stalled start).
            try await retryingWhileUnavailable { () async throws(StoreError) in try await migrate() }
        } catch {
            runner.cancel()
            throw error
        }
    }

    deinit {
        listeners.withLock { for task in $0.values { task.cancel() } }
        runner.cancel()
    }

    /// Stops the connection pool; the store cannot be used afterwards.
    public func close() async {
        listeners.withLock { for task in $0.values { task.cancel() } }
        runner.cancel()
        _ = await runner.value
    }

    /// A statement outside a transaction, on a pooled connection that is still open: the pool may
    /// hand out one the server has just closed, on which postgres-nio would wait forever
    /// (``PostgresConnection/execute(_:logger:)``).
    func query(_ doing: String, _ query: PostgresQuery) async throws(StoreError) {
        try await onConnection(doing, tries: readTries) { connection in
            for try await _ in try await connection.execute(query, logger: self.logger) {}
        }
    }

    /// All rows of `query` (outside a transaction), decoded.
    func rows<each T: PostgresDecodable & Sendable>(_ doing: String, _ query: PostgresQuery, as type: (repeat each T).Type) async throws(StoreError)
        -> [(repeat each T)]
    {
        try await onConnection(doing, tries: readTries) { connection in try await connection.rows(query, logger: self.logger, as: type) }
    }

    /// `body` on a pooled connection, its errors said as what failed while `doing`. A connection
    /// found closed, or whose session the server ended, is given back and another one taken, once.
    ///
    /// `limit` bounds the connections found closed before anything was sent on them (a read can
    /// go through the whole pool after the server restarted: each costs nothing); a transaction
    /// whose connection died under it is tried once more.
    ///
    /// `repeatable`: a transaction whose COMMIT went unanswered (``CommitUnanswered``) may have
    /// landed; one that does the same when run twice (upserts, deletes, a claim that finds
    /// itself) is tried once more like the rest, one that does not (``apply(_:)``: inserts)
    /// fails as unavailable and its caller decides.
    private func onConnection<R>(
        _ doing: String, tries limit: Int = 2, repeatable: Bool = true, _ body: (PostgresConnection) async throws -> sending R
    ) async throws(StoreError) -> R {
        var tries = 0
        while true {
            tries += 1
            do {
                return try await client.withConnection { connection in try await body(connection) }
            } catch let error as StoreError {
                throw error
            } catch let error as CommitUnanswered {
                if repeatable, tries < limit { continue }
                throw StoreError(
                    "\(location): cannot \(doing): the connection closed before the database answered the commit (\(error.underlying.code)); it may have been saved",
                    unavailable: true)
            } catch is ConnectionGone {
                if tries < limit {
                    // The pool notices a closed connection a moment after the server closed it.
                    try? await Task.sleep(for: .milliseconds(10 * tries))
                    continue
                }
                throw StoreError("\(location): cannot \(doing): the database closed the connection", unavailable: true)
            } catch let error as PSQLError where tries < limit && (error.code == .clientClosedConnection || error.code == .serverClosedConnection) {
                // A pooled connection closing as it was handed out: what was sent on it is
                // rolled back with it, so another connection is tried, a moment later.
                try? await Task.sleep(for: .milliseconds(10 * tries))
                continue
            } catch let error as PSQLError where tries < 2 && (error.serverInfo?[.sqlState] ?? "").hasPrefix("57P") {
                // The server ended that session (shutting down, or an administrator): nothing ran
                // on it, so another connection is tried.
                continue
            } catch {
                throw describe(error, doing: doing)
            }
        }
    }

    /// `body` in one transaction: committed when it returns, rolled back when it throws.
    /// `repeatable: false` for a body that must not run twice should its commit go unanswered
    /// (see ``onConnection(_:tries:repeatable:_:)``).
    func transaction<R: Sendable>(_ doing: String, repeatable: Bool = true, _ body: (PostgresConnection) async throws -> R)
        async throws(StoreError) -> R
    {
        try await onConnection(doing, repeatable: repeatable) { connection in
            try await connection.transaction(logger: self.logger) { try await body($0) }
        }
    }

    /// Logs nothing: the pool's own messages (connections retried) are not the user's; what fails
    /// reaches them as a ``StoreError``.
    public static let quietLogger = Logger(label: "novacron.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// An error in words that say what failed and why, without the password.
    func describe(_ error: any Error, doing: String) -> StoreError { Self.describe(error, doing: doing, location: location) }

    static func describe(_ error: any Error, doing: String, location: String) -> StoreError {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] {
                let code = e.serverInfo?[.sqlState] ?? ""
                let state = code.isEmpty ? "" : " (SQLSTATE \(code))"
                // Connection exceptions (08…) and the server shutting down or starting (57P…).
                // …and a transaction the server ended for idling past a lease (25P03): the
                // connection is gone, the batch is tried again on another.
                let unavailable = code.hasPrefix("08") || code.hasPrefix("57P") || code == "25P03"
                return StoreError("\(location): cannot \(doing): \(message)\(state)", unavailable: unavailable)
            }
            switch e.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed:
                let cause = e.underlying.map { ": \(Self.firstLine(String(describing: $0)))" } ?? ""
                return StoreError("\(location): cannot \(doing): the database is unreachable (\(e.code)\(cause))", unavailable: true)
            default:
                return StoreError("\(location): cannot \(doing): \(e.code)")
            }
        }
        if String(describing: error).contains("CircuitBreakerTripped") {
            return StoreError(
                "\(location): cannot \(doing): the database has been unreachable for a while (connections keep failing)", unavailable: true)
        }
        return StoreError("\(location): cannot \(doing): \(error)")
    }

    private static func firstLine(_ text: String) -> String { String(text.prefix(300).split(separator: "\n").first ?? "") }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

/// A query refused because the server closed its connection (``PostgresConnection/execute(_:logger:)``).
struct ConnectionGone: Error {}

/// The connection went after COMMIT was sent and before it was answered: the transaction may
/// have landed. Never tried again in place as if it had been rolled back; the caller decides
/// (``PostgresStore/apply(_:)`` tries its batch again as one that may have landed).
struct CommitUnanswered: Error {
    var underlying: PSQLError
}

extension PostgresConnection {
    /// Runs `query` on this connection (in its transaction). A connection the server closed while
    /// this process held it (the database restarting, a transaction idle past its limit) is
    /// refused here. postgres-nio 1.33 never answers a query written to a channel whose handlers
    /// are already gone (the write fails with no one to tell), which would hang the transaction,
    /// and every write behind it, for good: it was seen in full test runs after the server ended
    /// a starved transaction. The check and the write therefore run together on the connection's
    /// event loop, where the channel closes: either the channel is still open and postgres-nio
    /// answers (or fails) the query, or it is closed and this says so.
    @discardableResult
    func execute(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await withTaskExecutorPreference(EventLoopTaskExecutor.of(eventLoop)) {
            guard !isClosed else { throw ConnectionGone() }
            return try await self.query(query, logger: logger)
        }
    }

    /// `body` in one transaction on this connection: committed when it returns, rolled back when
    /// it throws (unless the connection is gone, which rolls it back on the server).
    func transaction<R>(logger: Logger, isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> sending R)
        async throws -> sending R
    {
        try await execute("BEGIN", logger: logger)
        let value: R
        do { value = try await body(self) } catch {
            if !isClosed { _ = try? await execute("ROLLBACK", logger: logger) }
            throw error
        }
        do { try await execute("COMMIT", logger: logger) } catch let error as PSQLError where error.serverInfo == nil {
            // Sent, and the connection went before the answer: the server may have committed.
            throw CommitUnanswered(underlying: error)
        }
        return value
    }

    /// Runs `query` in this connection's transaction; its rows, decoded.
    func rows<each T: PostgresDecodable>(_ query: PostgresQuery, logger: Logger, as type: (repeat each T).Type) async throws -> [(repeat each T)] {
        var out: [(repeat each T)] = []
        for try await row in try await execute(query, logger: logger) {
            out.append(try row.decode((repeat each T).self))
        }
        return out
    }
}
