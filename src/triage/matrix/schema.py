"""The JSON Schema of the matrix format, generated from the model."""

from __future__ import annotations

import json


def matrix_schema_json() -> str:
    from triage.matrix.model import MatrixModel

    schema = MatrixModel.model_json_schema(by_alias=True)
    schema.pop("title", None)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "matrix.schema.json",
              "title": "triage escalation matrix",
              "description": "The escalation matrix read by triage; `triage validate` checks what a schema cannot.",
              **schema}
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"
