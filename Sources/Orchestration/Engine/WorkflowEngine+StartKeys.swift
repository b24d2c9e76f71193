import Crypto
import Foundation

/// Idempotent starts: a start with an idempotency key claims the key in the store before it saves
/// the execution, so the same key on any node sharing the store finds the execution instead of
/// starting another.
extension WorkflowEngine {
    /// How long a key is remembered (as Stripe's and the IETF draft's examples do).
    static let startKeyLifetime: TimeInterval = 86_400
    /// How long a key may name an execution that is not saved before the start counts as lost (its
    /// node died between claiming the key and saving the execution) and the key is free again.
    static let startKeyGrace: TimeInterval = 60
    /// The longest key accepted.
    static let startKeyLimit = 255

    /// A key is 1–255 visible ASCII characters (and spaces), so it stores and prints safely.
    static func checkStartKey(_ key: String) throws {
        guard !key.isEmpty, key.utf8.count <= startKeyLimit, key.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw EngineError(.invalidInput, "an idempotency key is 1 to \(startKeyLimit) visible ASCII characters")
        }
    }

    /// What was asked under a key: the workflow, the inputs as given and the options that change
    /// what runs. The same key with another request is refused rather than answered with an
    /// execution of something else.
    static func startFingerprint(workflowID: String, inputs: [String: JSONValue], options: ExecutionOptions) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var hasher = SHA256()
        hasher.update(data: Data(workflowID.utf8))
        hasher.update(data: [0])
        hasher.update(data: (try? encoder.encode(inputs)) ?? Data())
        hasher.update(data: [0, options.debug ? 1 : 0])
        hasher.update(data: Data(String(options.maxParallelism ?? 0).utf8))
        return Hex.encode(hasher.finalize())
    }

    /// Claims `key` for execution `id`, about to start. Returns `nil` when the key is now this
    /// start's, or the execution an earlier start with the key made. Throws a conflict when the
    /// key was used for another request, or when its start is still being saved (try again).
    func claimStart(key: String, fingerprint: String, executionID id: String) async throws -> WorkflowExecution? {
        let keys: any StartKeyStore = store as? any StartKeyStore ?? memoryStore
        let now = self.now()
        let mine = StartKey(key: key, fingerprint: fingerprint, executionID: id, createdAt: now)
        var abandoned: String?
        while true {
            let holder: StartKey
            do {
                holder = try await keys.claimStartKey(mine, expiry: now.addingTimeInterval(-Self.startKeyLifetime), abandoned: abandoned)
            } catch {
                // The claim may have landed unanswered (the connection dropped at its commit).
                startsGivenUp.insert(id)
                throw EngineError(.unavailable, "cannot claim the idempotency key: \(error)")
            }
            if holder.executionID == id { return nil }
            guard holder.fingerprint == fingerprint else {
                throw EngineError(
                    .conflict, "idempotency key '\(key)' was used for another request (execution \(holder.executionID)); use a new key")
            }
            if let live = try? getExecution(holder.executionID) { return live }
            // Read, not assumed: a start given up on may have been saved after all.
            var known = true
            if let store {
                do {
                    if let saved = try await store.execution(id: holder.executionID) { return saved.execution }
                } catch { known = false }
            }
            // A start this engine gave up on, and that the store says was not saved, is not in
            // progress: its key is free now.
            let givenUp = known && startsGivenUp.contains(holder.executionID)
            guard givenUp || holder.createdAt < now.addingTimeInterval(-Self.startKeyGrace), abandoned == nil else {
                throw EngineError(
                    .conflict, "a start with idempotency key '\(key)' is still in progress (execution \(holder.executionID)); try again")
            }
            // Claimed and never saved: its node died in between. Take the key over, once.
            abandoned = holder.executionID
        }
    }
}

/// The newest few thousand executions whose keyed start this engine gave up on (``WorkflowEngine/startsGivenUp``).
/// Older ones are forgotten: by then the key's grace has passed and any node takes it over.
struct StartsGivenUp {
    private var ids: Set<String> = []
    private var order: [String] = []
    static let limit = 4096

    func contains(_ id: String) -> Bool { ids.contains(id) }

    mutating func insert(_ id: String) {
        guard ids.insert(id).inserted else { return }
        order.append(id)
        if order.count > Self.limit {
            let old = order.prefix(Self.limit / 2)
            ids.subtract(old)
            order.removeFirst(old.count)
        }
    }
}
