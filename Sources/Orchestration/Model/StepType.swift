/// What kind of work a step does; decides which executor runs it.
///
/// In files: `task`, `container`, `api`, `wait`, `lambda` (also spelled `function`).
public enum StepType: String, Sendable, Hashable, Codable, CaseIterable {
    /// A shell command or program on the local machine.
    case task
    /// A container run, build or push through docker or podman.
    case container
    /// An HTTP request.
    case api
    /// A fixed wait, or polling a URL until it is healthy (`action: health-check`).
    case wait
    /// A cloud function (AWS Lambda, Azure Functions, Cloud Run / Cloud Functions).
    case lambda
    /// Another registered workflow, run as a child execution (`workflow: <id>`).
    case workflow
    /// Waits for a person to approve or reject (API, CLI, UI), holding no worker slot.
    case approval

    /// Parses a type name as files write it, accepting the alias `function` for `lambda`.
    public init?(fileName: String) {
        if fileName == "function" {
            self = .lambda
            return
        }
        self.init(rawValue: fileName)
    }

    /// Every spelling accepted in files.
    public static let fileNames = ["task", "container", "api", "wait", "lambda", "function", "workflow", "approval"]
}
