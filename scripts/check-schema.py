#!/usr/bin/env python3
"""Validate workflow files against docs/workflow.schema.json with the independent `jsonschema` package.

Usage: check-schema.py SCHEMA FILE...
Prints one JSON object: {"FILE": ["error", ...], ...}; an empty list means valid.
Exit status 0 when it could check every file (whatever the verdicts), 3 when a package is missing.
"""
import json
import sys

try:
    import jsonschema
    import yaml
except ImportError as error:  # pragma: no cover - reported to the Swift test
    print(f"missing Python package: {error.name}; run scripts/test, which installs it", file=sys.stderr)
    sys.exit(3)


def main() -> int:
    schema_path, files = sys.argv[1], sys.argv[2:]
    with open(schema_path, encoding="utf-8") as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    verdicts = {}
    for path in files:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            verdicts[path] = [f"YAML: {error}"]
            continue
        verdicts[path] = sorted(
            f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
            for error in validator.iter_errors(document)
        )
    print(json.dumps(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
