"""Runs a GCP Workflows document in workflows-emulator (PyPI), the open-source interpreter of the
language.

usage: run_gcp_workflow.py DEFINITION.yaml INPUT_JSON RESULT.json

Writes one JSON object into RESULT.json: status (SUCCEEDED or FAILED), result (what `main`
returned) and error (what it raised). HTTP calls go where the document says: the tests point them
at servers on 127.0.0.1. The emulator logs on standard error.
"""
import copy
import json
import sys

from workflows_emulator import main as emulator, render, utils
from workflows_emulator.main import execute_workflow, load_workflow

# The emulator evaluates expressions as Python, which lacks the language's null, true and false
# literals; without them every exported document fails at its first step (`input != null`).
render.STANDARD_LIBRARY.update({"null": None, "true": True, "false": False})


# The emulator's switch goes on to the next true condition after running a branch's steps; the
# language runs the first true condition's branch only (the exporters' `condition: true` is the else).
def _first_true_branch(self):
    context = self.context
    for condition in self.config["switch"]:
        branch = copy.deepcopy(condition)
        holds = emulator.render_config(branch.pop("condition"), context)
        if not isinstance(holds, bool):
            raise SyntaxError(f"The switch condition must evaluate to a boolean: `{condition['condition']}`")
        if holds:
            context, next_step, returned = emulator.execute_step(step_id=self.step_id, config=branch, context=context)
            if returned is not None or next_step is not None:
                return context, next_step, returned
            break
    return context, self.config.get("next"), None


emulator.StepSwitch.execute = _first_true_branch


# The emulator runs the iterations of a parallel `for` as threads over one shared scope, so an
# iteration's `itemIndex` may be another's by the time it reads it (GCP gives each iteration its
# own). Here they run one after another, in order: the test checks the document, not the threads.
def _start_in_order(self):
    self.run()


def _join_started(self, timeout=None):
    if self.exc:
        self.exc.__context__ = RuntimeError("branch error")
        raise self.exc


utils.RisingThread.start = _start_in_order
utils.RisingThread.join = _join_started

definition_path, execution_input, result_path = sys.argv[1], sys.argv[2], sys.argv[3]
workflow = load_workflow(definition_path)
try:
    outcome = {"status": "SUCCEEDED", "result": execute_workflow(workflow, {"input": json.loads(execution_input)}), "error": None}
except Exception as error:  # the workflow raised: the execution failed
    raised = error.args[0] if error.args else str(error)
    outcome = {"status": "FAILED", "result": None, "error": raised if isinstance(raised, (dict, list, str)) else str(raised)}
with open(result_path, "w") as out:
    json.dump(outcome, out, default=str)
