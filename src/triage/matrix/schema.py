"""The JSON Schemas of triage's YAML formats (the matrix, a roster, an export mapping), generated from their
models."""

from __future__ import annotations

import json
from typing import Any


def schema_json(model: Any, file_id: str, title: str, description: str) -> str:
    """A pydantic model's JSON Schema as a document of its own: draft 2020-12, its id, title and description."""
    schema = model.model_json_schema(by_alias=True)
    schema.pop("title", None)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": file_id, "title": title,
              "description": description, **schema}
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def matrix_schema_json() -> str:
    from triage.matrix.model import MatrixModel

    return schema_json(MatrixModel, "matrix.schema.json", "triage escalation matrix",
                       "The escalation matrix read by triage; `triage validate` checks what a schema cannot.")
