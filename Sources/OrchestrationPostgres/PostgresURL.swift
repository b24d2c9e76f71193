import Foundation
import Orchestration
import NIOSSL
import PostgresNIO

/// A `postgres://` (or `postgresql://`) address: `postgres://user:password@host:port/database?sslmode=…`;
/// without a password in it, `PGPASSWORD` when set.
struct PostgresURL: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String?
    var tls: PostgresClient.Configuration.TLS
    /// The same TLS mode for a single connection (the probe before the pool starts).
    var connectionTLS: PostgresConnection.Configuration.TLS

    /// The address with the password replaced by `***`, for messages and logs.
    var redacted: String

    init(_ text: String) throws(StoreError) {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw StoreError("the database URL must look like postgres://user:password@host:5432/database")
        }
        guard let host = components.host, !host.isEmpty else { throw StoreError("the database URL names no host") }
        guard let user = components.user, !user.isEmpty else { throw StoreError("the database URL names no user (postgres://USER@host/database)") }
        self.host = host
        port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw StoreError("the database URL's port must be from 1 to 65535") }
        self.user = user.removingPercentEncoding ?? user
        // Left out of the URL (which may show in `ps`), the password is libpq's PGPASSWORD.
        password = components.password.map { $0.removingPercentEncoding ?? $0 } ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        switch components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer" {
        case "disable": (tls, connectionTLS) = (.disable, .disable)
        case "prefer", "allow": (tls, connectionTLS) = (.prefer(.makeClientConfiguration()), try Self.connectionTLS(prefer: true))
        case "require", "verify-ca", "verify-full":
            (tls, connectionTLS) = (.require(.makeClientConfiguration()), try Self.connectionTLS(prefer: false))
        case let other: throw StoreError("the database URL's sslmode '\(other)' is none of disable, prefer, require")
        }
        var shown = components
        if shown.password != nil { shown.password = "***" }
        shown.query = nil
        redacted = shown.string ?? "postgres://\(host)"
    }

    private static func connectionTLS(prefer: Bool) throws(StoreError) -> PostgresConnection.Configuration.TLS {
        do {
            let context = try NIOSSLContext(configuration: .makeClientConfiguration())
            return prefer ? .prefer(context) : .require(context)
        } catch {
            throw StoreError("cannot set up TLS for the database connection: \(error)")
        }
    }

    /// A single connection's configuration.
    var connection: PostgresConnection.Configuration {
        PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: connectionTLS)
    }
}

extension PostgresStore {
    /// `url` without its password, for messages; throws what is wrong with it.
    public static func redacted(_ url: String) throws(StoreError) -> String { try PostgresURL(url).redacted }
}
