"""Runs an Amazon States Language document in moto's Step Functions interpreter.

usage: run_state_machine.py DEFINITION.json INPUT_JSON FUNCTION[,FUNCTION...] RESULT.json

Creates the named Lambda functions (moto's Docker-free Lambda answers every invocation with its
payload), creates the state machine, starts it, waits for the interpreter's threads to end (moto runs an
execution, and each Parallel branch, on a thread of its own) and prints one JSON object: status,
error, cause, output, the names of the states entered in order, and the failures on the way,
into RESULT.json (moto logs on standard error).
"""
import io
import json
import sys
import zipfile

from moto import mock_aws
from moto.stepfunctions.parser.utils import TMP_THREADS
import boto3

definition_path, execution_input, result_path = sys.argv[1], sys.argv[2], sys.argv[4]
functions = [f for f in sys.argv[3].split(",") if f]
REGION = "us-east-1"

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
    with open(definition_path) as f:
        machine = sfn.create_state_machine(name="exported", definition=f.read(), roleArn=role)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=execution_input)["executionArn"]
    while any(t.is_alive() for t in TMP_THREADS):
        for t in list(TMP_THREADS):
            t.join()
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
