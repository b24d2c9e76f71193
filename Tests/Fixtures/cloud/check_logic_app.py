"""Checks an Azure Logic Apps workflow definition's structure.

usage: check_logic_app.py DEFINITION.json...

Microsoft publishes no JSON Schema for the workflow definition language that is reachable here, so
this checks what the language reference requires of every definition: the top-level sections; an
action type and its required inputs; `runAfter` naming only actions of the same scope, with the
statuses Succeeded, Failed, Skipped and TimedOut; no cycle through `runAfter` in any scope; action
names unique across the definition; expressions (`@…`, `@{…}`) with balanced parentheses and
quotes; Terminate run statuses. Prints every problem; exit status 1 when there is one.
"""
import json
import re
import sys

STATUSES = {"Succeeded", "Failed", "Skipped", "TimedOut"}
TYPES = {"Http", "Function", "Wait", "If", "Scope", "Until", "Foreach", "Compose", "Terminate", "Response", "Switch", "Workflow"}
problems = []


def expression_ok(text):
    depth, quoted = 0, False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not quoted


def check_strings(value, where):
    if isinstance(value, dict):
        for k, v in value.items():
            check_strings(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_strings(v, f"{where}[{i}]")
    elif isinstance(value, str):
        if value.startswith("@@"):
            return
        if value.startswith("@") and not value.startswith("@{"):
            if not expression_ok(value[1:]):
                problems.append(f"{where}: unbalanced expression {value!r}")
        for inner in re.findall(r"@\{(.*?)\}(?=[^}]*$|[^}])", value):
            if not expression_ok(inner):
                problems.append(f"{where}: unbalanced expression {inner!r}")


def check_scope(actions, where, names):
    if not isinstance(actions, dict):
        problems.append(f"{where}: actions must be an object")
        return
    graph = {}
    for name, action in actions.items():
        here = f"{where}.{name}"
        if name in names:
            problems.append(f"{here}: action name used twice")
        names.add(name)
        kind = action.get("type")
        if kind not in TYPES:
            problems.append(f"{here}: unknown type {kind!r}")
        run_after = action.get("runAfter", {})
        graph[name] = list(run_after)
        for dep, statuses in run_after.items():
            if dep not in actions:
                problems.append(f"{here}: runAfter names {dep!r}, which is not an action of this scope")
            if not statuses or not set(statuses) <= STATUSES:
                problems.append(f"{here}: runAfter {dep!r} has statuses {statuses}")
        inputs = action.get("inputs", {})
        if kind == "Http" and not ("method" in inputs and "uri" in inputs):
            problems.append(f"{here}: an Http action needs inputs.method and inputs.uri")
        if kind == "Workflow":
            host = inputs.get("host", {})
            workflow_id = host.get("workflow", {}).get("id", "")
            if not host.get("triggerName") or "/providers/Microsoft.Logic/workflows/" not in workflow_id or not workflow_id.startswith("/subscriptions/"):
                problems.append(f"{here}: a Workflow action needs inputs.host.triggerName and inputs.host.workflow.id, a logic app's resource id")
        if kind == "Response" and not isinstance(inputs.get("statusCode"), int):
            problems.append(f"{here}: a Response action needs inputs.statusCode")
        if kind == "Function" and "id" not in inputs.get("function", {}):
            problems.append(f"{here}: a Function action needs inputs.function.id")
        if kind == "Wait" and "interval" not in inputs and "until" not in inputs:
            problems.append(f"{here}: a Wait action needs inputs.interval or inputs.until")
        if kind == "Terminate" and inputs.get("runStatus") not in {"Succeeded", "Failed", "Cancelled"}:
            problems.append(f"{here}: Terminate runStatus {inputs.get('runStatus')!r}")
        if kind == "If":
            if "expression" not in action:
                problems.append(f"{here}: an If action needs an expression")
            check_scope(action.get("actions", {}), here, names)
            check_scope(action.get("else", {}).get("actions", {}), here + ".else", names)
        if kind == "Foreach" and not isinstance(action.get("foreach"), str):
            problems.append(f"{here}: a Foreach action needs a foreach expression")
        if kind in {"Scope", "Until", "Foreach"}:
            check_scope(action.get("actions", {}), here, names)
        check_strings(action, here)
    # Cycles through runAfter.
    state = {}

    def visit(node, path):
        if state.get(node) == 1:
            problems.append(f"{where}: runAfter cycle {' -> '.join(path + [node])}")
            return
        if state.get(node) == 2 or node not in graph:
            return
        state[node] = 1
        for dep in graph[node]:
            visit(dep, path + [node])
        state[node] = 2

    for node in graph:
        visit(node, [])


for path in sys.argv[1:]:
    with open(path) as f:
        definition = json.load(f)
    for key in ("$schema", "contentVersion", "triggers", "actions"):
        if key not in definition:
            problems.append(f"{path}: no {key}")
    if "workflowdefinition.json" not in definition.get("$schema", ""):
        problems.append(f"{path}: $schema is not the workflow definition schema")
    check_scope(definition.get("actions", {}), path, set())
    for name, parameter in definition.get("parameters", {}).items():
        if parameter.get("type") not in {"String", "Int", "Float", "Bool", "Array", "Object", "SecureString", "SecureObject"}:
            problems.append(f"{path}: parameter {name} has type {parameter.get('type')!r}")

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
