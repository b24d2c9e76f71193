import Foundation

/// What a step's process inherits from the server's (or `novacron run`'s) own environment: a
/// short allow-list, never the server's credentials.
///
/// | passed | why |
/// |---|---|
/// | `PATH`, `HOME`, `USER`, `LOGNAME`, `SHELL`, `TMPDIR`, `TERM` | finding programs, a home and a temporary folder |
/// | `LANG`, `LANGUAGE`, `LC_*`, `TZ` | text encoding, messages and time zone |
/// | `DOCKER_HOST`, `DOCKER_CONTEXT`, `DOCKER_CONFIG`, `DOCKER_CERT_PATH`, `DOCKER_TLS_VERIFY`, `CONTAINER_HOST`, `XDG_RUNTIME_DIR` | reaching the container runtime of `container` steps |
/// | the names in `NOVACRON_STEP_ENV` (comma-separated; `AWS_*` passes a prefix) | what the operator chooses to share, such as `KUBECONFIG` or `HTTPS_PROXY` |
///
/// Never passed, even when listed: `NOVACRON_*` (API tokens, `NOVACRON_SECRET_*`, settings).
/// A step gets a secret only by referencing it (`${secrets.NAME}`). On top of this come the
/// step's own variables: its references, its inputs as `INPUT_*`, its `env` input and the
/// `NOVACRON_*` variables of the attempt (``StepRequest/processEnvironment``).
///
/// ```sh
/// NOVACRON_STEP_ENV=KUBECONFIG,AWS_PROFILE,HTTPS_PROXY novacron serve
/// ```
package struct StepEnvironment: Sendable, Equatable {
    package static let defaultNames = [
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TERM", "LANG", "LANGUAGE", "LC_*", "TZ",
        "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "CONTAINER_HOST", "XDG_RUNTIME_DIR",
    ]

    /// The variables passed.
    package let variables: [String: String]

    /// Picks from `environment` the ``defaultNames`` and those listed in its `NOVACRON_STEP_ENV`.
    package init(from environment: [String: String]) {
        let listed = (environment["NOVACRON_STEP_ENV"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let patterns = Self.defaultNames + listed.filter { !$0.isEmpty }
        var picked: [String: String] = [:]
        for (name, value) in environment where !name.hasPrefix("NOVACRON_") {
            if patterns.contains(where: { Self.matches(name, $0) }) { picked[name] = value }
        }
        variables = picked
    }

    /// This process's, read once.
    package static let current = StepEnvironment(from: ProcessInfo.processInfo.environment)

    static func matches(_ name: String, _ pattern: String) -> Bool {
        pattern.hasSuffix("*") ? name.hasPrefix(pattern.dropLast()) : name == pattern
    }
}
