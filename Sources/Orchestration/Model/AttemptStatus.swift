/// How one attempt of a step stands or ended: what attempt records and the learning engine's
/// observations both say.
public enum AttemptStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case running, succeeded, failed, timedOut, cancelled
    /// Its outputs came from the step cache; nothing ran.
    case cached
    /// In flight when the process running it died; the step was run again.
    case interrupted
}
