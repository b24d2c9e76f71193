"""Runs an Amazon States Language document in moto's Step Functions interpreter.

usage: run_state_machine.py DEFINITION.json INPUT_JSON FUNCTION[,FUNCTION...] RESULT.json
           [--machine NAME=DEFINITION.json]... [--answer STEP=success:JSON | STEP=failure:ERROR]...

Creates the named Lambda functions (moto's Docker-free Lambda answers every invocation with its
payload), creates the state machine, starts it, waits for the interpreter's threads to end (moto runs an
execution, and each Parallel branch, on a thread of its own) and prints one JSON object: status,
error, cause, output, the names of the states entered in order, and the failures on the way,
into RESULT.json (moto logs on standard error).

--machine creates another state machine under NAME first (a child that startExecution.sync:2 runs).
--answer plays the outside system for a task that waits for its token: when a task publishes an
EventBridge event whose Detail has "step": STEP and a "TaskToken", the token is sent back with
SendTaskSuccess (the JSON as the task's output) or SendTaskFailure (the error).
"""
import io
import json
import sys
import zipfile

from moto import mock_aws
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import StateTaskServiceSfn
from moto.stepfunctions.parser.utils import TMP_THREADS
import boto3


# moto's copy of the interpreter leaves out the casing of requests and responses between Step
# Functions' documented keys (StateMachineArn, Input; ExecutionArn, Output) and boto3's
# (stateMachineArn, input); without it, states:startExecution fails on its own documented keys.
def _sfn_request(self, parameters, boto_service_name=None, service_action_name=None):
    if "Input" in parameters and not isinstance(parameters["Input"], str):
        parameters["Input"] = json.dumps(parameters["Input"], separators=(",", ":"))
    for key in [k for k in parameters if k in ("StateMachineArn", "Input", "Name", "ExecutionArn")]:
        parameters[key[0].lower() + key[1:]] = parameters.pop(key)


def _sfn_response(self, response, boto_service_name=None, service_action_name=None):
    if isinstance(response, dict):
        for key in list(response):
            response[key[0].upper() + key[1:]] = response.pop(key)


StateTaskServiceSfn._normalise_parameters = _sfn_request
StateTaskServiceSfn._normalise_response = _sfn_response

definition_path, execution_input, result_path = sys.argv[1], sys.argv[2], sys.argv[4]
functions = [f for f in sys.argv[3].split(",") if f]
machines, answers = [], {}
rest = sys.argv[5:]
while rest:
    flag, value, rest = rest[0], rest[1], rest[2:]
    key, _, spec = value.partition("=")
    if flag == "--machine":
        machines.append((key, spec))
    elif flag == "--answer":
        kind, _, payload = spec.partition(":")
        answers[key] = (kind, payload)
    else:
        sys.exit(f"unknown option {flag}")
REGION = "us-east-1"


def tokens_waiting(sfn, answered):
    """(step, token) of every task that published a token not answered yet, in any execution."""
    found = []
    for m in sfn.list_state_machines()["stateMachines"]:
        for e in sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]:
            for ev in sfn.get_execution_history(executionArn=e["executionArn"], maxResults=1000)["events"]:
                details = ev.get("taskScheduledEventDetails")
                if not details or "waitForTaskToken" not in details["resource"]:
                    continue
                for entry in json.loads(details["parameters"]).get("Entries", []):
                    detail = entry.get("Detail")
                    detail = json.loads(detail) if isinstance(detail, str) else detail
                    token = detail.get("TaskToken")
                    if token and token not in answered:
                        found.append((detail.get("step"), token))
    return found


with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="novacron-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("handler.py", "def handle(event, context):\n    return event\n")
    lam = boto3.client("lambda", region_name=REGION)
    for name in functions:
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handle", Code={"ZipFile": code.getvalue()})
    sfn = boto3.client("stepfunctions", region_name=REGION)
    for name, path in machines:
        with open(path) as f:
            sfn.create_state_machine(name=name, definition=f.read(), roleArn=role)
    with open(definition_path) as f:
        machine = sfn.create_state_machine(name="exported", definition=f.read(), roleArn=role)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=execution_input)["executionArn"]
    answered = set()
    while any(t.is_alive() for t in TMP_THREADS):
        for step, token in tokens_waiting(sfn, answered) if answers else []:
            answered.add(token)
            if step not in answers:
                continue
            kind, payload = answers[step]
            if kind == "success":
                sfn.send_task_success(taskToken=token, output=payload)
            else:
                sfn.send_task_failure(taskToken=token, error=payload, cause="answered by the test")
        for t in list(TMP_THREADS):
            t.join(timeout=0.05)
    run = sfn.describe_execution(executionArn=execution)
    history = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    failures = [e[k] for e in history for k in e if k.endswith("FailedEventDetails")]
    with open(result_path, "w") as out:
        json.dump({
            "status": run["status"],
            "error": run.get("error"),
            "cause": run.get("cause"),
            "output": json.loads(run["output"]) if run.get("output") else None,
            "entered": entered,
            "failures": failures,
        }, out)
