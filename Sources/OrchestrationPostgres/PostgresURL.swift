import Foundation
import Orchestration
import PostgresNIO

/// A `postgres://` (or `postgresql://`) address: `postgres://user:password@host:port/database?sslmode=…`.
struct PostgresURL: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String?
    var tls: PostgresClient.Configuration.TLS

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
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        switch components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer" {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        case let other: throw StoreError("the database URL's sslmode '\(other)' is none of disable, prefer, require")
        }
        var shown = components
        if shown.password != nil { shown.password = "***" }
        shown.query = nil
        redacted = shown.string ?? "postgres://\(host)"
    }
}
