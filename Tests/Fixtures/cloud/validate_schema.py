"""Validates YAML or JSON documents against a JSON Schema (draft 7).

usage: validate_schema.py SCHEMA.json [--definition NAME] DOCUMENT...

The schema's own `$schema` picks the draft (Argo's is 2020-12, GCP's draft 7).

With --definition, documents are checked against that entry of the schema's `definitions`
(Argo's schema lists Workflow but not WorkflowTemplate at its root). Prints every error with its
path in the document; exit status 1 when there is one.
"""
import json
import sys

import jsonschema
import yaml

args = sys.argv[1:]
schema = json.load(open(args.pop(0)))
cls = jsonschema.validators.validator_for(schema)
if args and args[0] == "--definition":
    args.pop(0)
    schema = {"$schema": schema.get("$schema"), "$ref": "#/definitions/" + args.pop(0), "definitions": schema["definitions"]}
validator = cls(schema)
failed = False
for path in args:
    with open(path) as f:
        document = yaml.safe_load(f)
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path)):
        failed = True
        print(f"{path}: /{'/'.join(map(str, error.path))}: {error.message[:400]}")
sys.exit(1 if failed else 0)
