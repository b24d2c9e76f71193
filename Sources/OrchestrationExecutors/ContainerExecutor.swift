import Foundation
import Orchestration

/// Runs `container` steps with the docker or podman CLI: `args` (set by the `docker-build`,
/// `docker-run` and `registry-push` actions) are passed to the runtime.
///
/// The runtime is `$NOVACRON_CONTAINER_RUNTIME`, else the first of `docker`, `podman` on `PATH`.
/// Where there is none, the step fails saying what to install.
public struct ContainerExecutor: StepExecutor {
    let runtime: String?
    let searchPath: String

    /// - Parameters:
    ///   - runtime: the runtime to use; `nil` to look for docker, then podman, on `searchPath`.
    public init(
        runtime: String? = ProcessInfo.processInfo.environment["NOVACRON_CONTAINER_RUNTIME"],
        searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    ) {
        self.runtime = runtime
        self.searchPath = searchPath
    }

    public func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        guard let runtime = runtime ?? Self.findRuntime(path: searchPath) else {
            return .failure(
                "no container runtime found: install Docker (https://docs.docker.com/engine/install/) or Podman (apt install podman), or set NOVACRON_CONTAINER_RUNTIME"
            )
        }
        guard case .array(let args)? = request.inputs["args"], !args.isEmpty else {
            return .failure("a container step needs an action (docker-build, docker-run, registry-push) or inputs.args for \(runtime)")
        }
        var arguments = args.map(\.text)
        // `run` hands the attempt's span to the container: `--env NAME` copies the runtime's own
        // variable (set from the request), so the value is not in the arguments.
        if request.trace != nil, arguments.first == "run" {
            arguments.insert(contentsOf: ["--env", "TRACEPARENT"] + (request.trace?.tracestate == nil ? [] : ["--env", "TRACESTATE"]), at: 1)
        }
        return await ProcessStep.run(executable: runtime, arguments: arguments, request: request, context: context)
    }

    /// The first of docker, podman found on `PATH`.
    public static func findRuntime(path: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") -> String? {
        for name in ["docker", "podman"] {
            for dir in path.split(separator: ":") {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }
}

/// Stands in for `lambda`/`function` steps where the cloud executor is not registered: each
/// fails saying so. The CLI and server register `OrchestrationCloud`'s `FunctionExecutor`.
public struct CloudFunctionExecutor: StepExecutor {
    public init() {}

    public func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        .failure(
            "\(request.type.rawValue) step '\(request.stepID)': no cloud function executor is registered (register OrchestrationCloud's FunctionExecutor with registerCloudFunctions())"
        )
    }
}

extension ExecutorRegistry {
    /// The real executors for every step type: shell, HTTP, wait/health-check, container, and
    /// the cloud-function placeholder that fails clearly.
    public static func standard() -> ExecutorRegistry {
        var registry = ExecutorRegistry()
        registry.register(ShellExecutor(), for: .task)
        registry.register(HTTPExecutor(), for: .api)
        registry.register(WaitExecutor(), for: .wait)
        registry.register(ContainerExecutor(), for: .container)
        registry.register(CloudFunctionExecutor(), for: .lambda)
        return registry
    }
}
