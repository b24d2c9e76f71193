import Foundation

/// Renders an ``ExecutionPlan`` as text, JSON, Graphviz DOT or Mermaid.
///
/// ```swift
/// let renderer = PlanRenderer(plan: plan, graph: document.graph)
/// print(renderer.text())
/// try renderer.dot().write(toFile: "plan.dot", atomically: true, encoding: .utf8)
/// ```
public struct PlanRenderer: Sendable {
    public var plan: ExecutionPlan
    public var graph: WorkflowGraph

    public init(plan: ExecutionPlan, graph: WorkflowGraph) {
        self.plan = plan
        self.graph = graph
    }

    private var steps: [WorkflowStep] { graph.workflow.steps }

    /// Edges on the critical path, as (upstream, downstream) index pairs.
    private var criticalEdges: Set<[Int]> {
        let path = plan.criticalPath.compactMap { graph.index[$0] }
        return Set(zip(path, path.dropFirst()).map { [$0, $1] })
    }

    private var redundantEdges: Set<[Int]> {
        Set(
            plan.redundantDependencies.compactMap { r in
                graph.index[r.dependency].flatMap { u in graph.index[r.step].map { [u, $0] } }
            })
    }

    /// A human summary: stages, critical path, estimates, score and findings.
    public func text(now: Date = Date()) -> String {
        let w = graph.workflow
        var out =
            "\(w.name) (\(w.id)): \(steps.count) step\(steps.count == 1 ? "" : "s") in \(plan.stages.count) stage\(plan.stages.count == 1 ? "" : "s")\n"
        out += "Stages:\n"
        let width = String(plan.stages.count).count
        for (i, stage) in plan.stages.enumerated() {
            let number = String(i + 1).leftPadded(to: width)
            let kind = stage.parallel ? "parallel" : (stage.steps.count > 1 ? "exclusive steps, one at a time" : "")
            out += "  \(number). \(stage.steps.joined(separator: ", "))\(kind.isEmpty ? "" : "   (\(kind))")\n"
        }
        out += "Critical path: \(plan.criticalPath.joined(separator: " -> ")) (\(DurationText.format(plan.criticalPathDuration)))\n"
        out += "Estimated duration: \(DurationText.format(plan.estimatedDuration)) (serial \(DurationText.format(plan.serialDuration)))\n"
        out += "Optimization score: \(Self.score(plan.optimizationScore)) (serial ÷ planned)\n"
        if plan.redundantDependencies.isEmpty {
            out +=
                "Redundant dependencies: none\(plan.reductionComplete ? "" : " found (search stopped early: the graph is too large to check completely)")\n"
        } else {
            out += "Redundant dependencies (safe to remove):\n"
            for r in plan.redundantDependencies {
                out += "  \(r.step) -> \(r.dependency): already waited for through \(r.via)\n"
            }
        }
        if !plan.implicitDependencies.isEmpty {
            out += "Implicit dependencies (from ${…} references):\n"
            for d in plan.implicitDependencies { out += "  \(d.step) waits for \(d.dependency)\n" }
        }
        if !plan.cacheHints.isEmpty {
            out += "Cache hints: \(plan.cacheHints.joined(separator: ", ")) (idempotent; add cache: {enabled: true, ttl: 1h})\n"
        }
        let schedules = self.schedules(now: now)
        if !schedules.isEmpty {
            out += "Schedules (next \(Self.upcomingCount) fire times):\n"
            for s in schedules {
                out += "  \(s.trigger): \(s.schedule.expression) (\(s.schedule.zoneName))"
                out += s.next.isEmpty ? " never fires\n" : "\n" + s.next.map { "    \(s.schedule.localText($0))\n" }.joined()
            }
        }
        return out
    }

    /// How many upcoming fire times `plan` shows per schedule.
    public static let upcomingCount = 5

    /// Each schedule trigger with its next fire times after `now`.
    package func schedules(now: Date) -> [(trigger: String, schedule: CronSchedule, next: [Date])] {
        graph.workflow.triggers.compactMap { trigger in
            guard let schedule = try? CronSchedule(trigger: trigger) else { return nil }
            return (trigger.id, schedule, schedule.upcoming(after: now, count: Self.upcomingCount))
        }
    }

    static func score(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        var s = "\(r)"
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < 2 { s += String(repeating: "0", count: 2 - decimals) }
        } else {
            s += ".00"
        }
        return s
    }

    /// The plan as a JSON value (durations in seconds).
    public func json(warnings: [DefinitionError] = [], now: Date = Date()) -> JSONValue {
        var stepsOut: [JSONValue] = []
        var stageOf: [String: Int] = [:]
        for (i, stage) in plan.stages.enumerated() { for s in stage.steps { stageOf[s] = i + 1 } }
        for (i, step) in steps.enumerated() {
            stepsOut.append([
                "id": .string(step.id),
                "stage": .number(Double(stageOf[step.id] ?? 0)),
                "estimateSeconds": .number(plan.estimates[step.id]?.seconds ?? 0),
                "prioritySeconds": .number(plan.priorities[step.id]?.seconds ?? 0),
                "dependencies": .array(graph.upstream[i].map { .string(steps[$0].id) }),
                "exclusive": .bool(!step.parallel),
            ])
        }
        return [
            "workflow": .string(graph.workflow.id),
            "name": .string(graph.workflow.name),
            "stages": .array(plan.stages.map { ["steps": .array($0.steps.map(JSONValue.string)), "parallel": .bool($0.parallel)] }),
            "criticalPath": .array(plan.criticalPath.map(JSONValue.string)),
            "criticalPathSeconds": .number(plan.criticalPathDuration.seconds),
            "estimatedSeconds": .number(plan.estimatedDuration.seconds),
            "serialSeconds": .number(plan.serialDuration.seconds),
            "optimizationScore": .number(plan.optimizationScore),
            "redundantDependencies": .array(
                plan.redundantDependencies.map {
                    ["step": .string($0.step), "dependency": .string($0.dependency), "via": .string($0.via)]
                }),
            "reductionComplete": .bool(plan.reductionComplete),
            "implicitDependencies": .array(plan.implicitDependencies.map { ["step": .string($0.step), "dependency": .string($0.dependency)] }),
            "cacheHints": .array(plan.cacheHints.map(JSONValue.string)),
            "schedules": .array(
                schedules(now: now).map { s in
                    [
                        "trigger": .string(s.trigger), "schedule": .string(s.schedule.expression.source), "timezone": .string(s.schedule.zoneName),
                        "next": .array(s.next.map { .string($0.formatted(.iso8601)) }),
                    ]
                }),
            "steps": .array(stepsOut),
            "warnings": .array(
                warnings.map { w in
                    var o: [String: JSONValue] = ["code": .string(w.code.rawValue), "message": .string(w.message), "path": .string(w.path)]
                    if let l = w.location {
                        o["file"] = .string(l.file)
                        o["line"] = .number(Double(l.line))
                        o["column"] = .number(Double(l.column))
                    }
                    return .object(o)
                }),
        ]
    }

    /// Graphviz DOT: stages left to right, the critical path in bold red, redundant edges dashed,
    /// implicit edges dotted, exclusive steps as boxes.
    public func dot() -> String {
        let critical = criticalEdges
        let redundant = redundantEdges
        let onPath = Set(plan.criticalPath)
        var out = "digraph \(Self.dotQuote(graph.workflow.id)) {\n  rankdir=LR;\n  node [shape=ellipse, fontname=\"Helvetica\"];\n"
        for stage in plan.stages {
            out += "  { rank=same;"
            for id in stage.steps { out += " \(Self.dotQuote(id));" }
            out += " }\n"
        }
        for step in steps {
            var attributes: [String] = []
            if let name = step.name { attributes.append("label=\(Self.dotQuote("\(step.id)\n\(name)"))") }
            if !step.parallel { attributes.append("shape=box") }
            if onPath.contains(step.id) { attributes.append("color=red, penwidth=2") }
            out += "  \(Self.dotQuote(step.id))\(attributes.isEmpty ? "" : " [\(attributes.joined(separator: ", "))]");\n"
        }
        for v in 0..<graph.count {
            for (position, u) in graph.upstream[v].enumerated() {
                var attributes: [String] = []
                if critical.contains([u, v]) { attributes.append("color=red, penwidth=2") }
                if redundant.contains([u, v]) {
                    attributes.append("style=dashed, label=\"redundant\"")
                } else if graph.isImplicit(step: v, upstreamPosition: position) {
                    attributes.append("style=dotted")
                }
                out +=
                    "  \(Self.dotQuote(steps[u].id)) -> \(Self.dotQuote(steps[v].id))\(attributes.isEmpty ? "" : " [\(attributes.joined(separator: ", "))]");\n"
            }
        }
        return out + "}\n"
    }

    /// A Mermaid flowchart, left to right, critical path highlighted.
    public func mermaid() -> String {
        let critical = criticalEdges
        let redundant = redundantEdges
        var out = "flowchart LR\n"
        for (i, step) in steps.enumerated() {
            let label = Self.mermaidLabel(step.name.map { "\(step.id): \($0)" } ?? step.id)
            out += step.parallel ? "  n\(i)([\"\(label)\"])\n" : "  n\(i)[\"\(label)\"]\n"
        }
        var criticalLinks: [Int] = []
        var link = 0
        for v in 0..<graph.count {
            for (position, u) in graph.upstream[v].enumerated() {
                let arrow =
                    redundant.contains([u, v]) ? " -. redundant .-> " : (graph.isImplicit(step: v, upstreamPosition: position) ? " -.-> " : " --> ")
                out += "  n\(u)\(arrow)n\(v)\n"
                if critical.contains([u, v]) { criticalLinks.append(link) }
                link += 1
            }
        }
        out += "  classDef critical stroke:#d00,stroke-width:3px\n"
        let onPath = plan.criticalPath.compactMap { graph.index[$0] }
        if !onPath.isEmpty { out += "  class \(onPath.map { "n\($0)" }.joined(separator: ",")) critical\n" }
        if !criticalLinks.isEmpty {
            out += "  linkStyle \(criticalLinks.map(String.init).joined(separator: ",")) stroke:#d00,stroke-width:3px\n"
        }
        return out
    }

    static func dotQuote(_ s: String) -> String {
        "\"" + s.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"").replacingAll("\n", with: "\\n") + "\""
    }

    static func mermaidLabel(_ s: String) -> String {
        s.replacingAll("\"", with: "#quot;").replacingAll("\n", with: " ")
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
