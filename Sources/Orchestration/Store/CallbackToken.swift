import Crypto
import Foundation

/// A single-use callback for one waiting step: an outside system that holds the token decides the
/// approval, or sends the signal, with no API token (Step Functions' task tokens). The store keeps
/// only the token's SHA-256, so a copy of the database grants nothing.
public struct CallbackToken: Sendable, Hashable, Codable {
    /// Hex SHA-256 of the token.
    public var digest: String
    public var executionID: String
    /// The waiting step (a forEach item as `<step>[<i>]`).
    public var stepID: String
    /// The signal it sends: `nil` for an approval step (the caller says approve or reject).
    public var signal: String?
    public var createdAt: Date
    public var expiresAt: Date
    /// Set when it was used: it works once.
    public var usedAt: Date?
    /// Who asked for it (the API token's name, `cli`): the decision is recorded as theirs, by callback.
    public var mintedBy: String

    public init(
        digest: String, executionID: String, stepID: String, signal: String?, createdAt: Date, expiresAt: Date, usedAt: Date? = nil,
        mintedBy: String = ""
    ) {
        (self.digest, self.executionID, self.stepID, self.signal, self.createdAt, self.expiresAt, self.usedAt, self.mintedBy) =
            (digest, executionID, stepID, signal, createdAt, expiresAt, usedAt, mintedBy)
    }

    /// Who a decision or signal sent with it is from: `callback (minted by alice)`.
    public var sender: String { mintedBy.isEmpty ? "callback" : "callback (minted by \(mintedBy))" }

    /// How long a callback works unless the wait ends first.
    public static let lifetime: TimeInterval = 7 * 86_400
    /// `ncb_` and 43 base64url characters (32 random bytes).
    package static let prefix = "ncb_"

    /// The digest of a token as given, or nil when it is not one (so nothing malformed reaches the store).
    public static func digestOfGiven(_ token: String) -> String? {
        guard token.utf8.count == prefix.utf8.count + 43, token.hasPrefix(prefix),
            token.utf8.dropFirst(prefix.utf8.count).allSatisfy({
                $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
            })
        else { return nil }
        return digest(of: token)
    }

    package static func digest(of token: String) -> String { Hex.encode(SHA256.hash(data: Data(token.utf8))) }
}
