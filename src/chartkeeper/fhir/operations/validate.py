"""$validate (http://hl7.org/fhir/R4/resource-operation-validate.html).

Validates a resource (the body, or the ``resource`` parameter of a Parameters body) without
storing it; answers 200 with an OperationOutcome listing every issue, or one saying all is well.
"""

from __future__ import annotations

from typing import Any

from chartkeeper.core.errors import InvalidError
from chartkeeper.fhir.interactions.context import Result
from chartkeeper.fhir.outcome import information, issue_dict
from chartkeeper.fhir.validation import require_resource_type, validation_issues


def _resource(body: Any) -> Any:
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        parameters = body.get("parameter") or []
        if not isinstance(parameters, list):
            raise InvalidError("Parameters.parameter must be an array", ("Parameters.parameter",))
        for parameter in parameters:
            if isinstance(parameter, dict) and parameter.get("name") == "resource":
                return parameter.get("resource")
        raise InvalidError("Parameters for $validate must carry a 'resource' parameter")
    return body


def validate_operation(resource_type: str | None, body: Any) -> Result:
    """POST [base]/[type]/$validate."""
    resource = _resource(body)
    if resource_type:
        require_resource_type(resource_type)
        if isinstance(resource, dict) and resource.get("resourceType") != resource_type:
            raise InvalidError(
                f"resourceType '{resource.get('resourceType')}' does not match '{resource_type}'",
                ("resourceType",),
            )
    issues = validation_issues(resource)
    if not issues:
        return Result(200, body=information("Validation successful: no issues found"))
    outcome: dict[str, Any] = {
        "resourceType": "OperationOutcome",
        "issue": [issue_dict(i, "invalid") for i in issues],
    }
    return Result(200, body=outcome)
