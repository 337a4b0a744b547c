"""metav1.Status bodies exactly as kube-apiserver writes them, raised as :class:`ApiError`."""

from __future__ import annotations

from typing import Any

from meshtui.demo.apiserver.resources import ResourceType


class ApiError(Exception):
    """An error response: raising it anywhere in a handler sends ``status`` with ``status["code"]``."""

    def __init__(self, status: dict[str, Any]):
        super().__init__(status["message"])
        self.status = status

    @property
    def code(self) -> int:
        return int(self.status["code"])


def failure(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason,
    }
    if details:
        status["details"] = details
    status["code"] = code
    return status


def _details(rt: ResourceType, name: str, **extra: Any) -> dict[str, Any]:
    # Go's omitempty drops empty strings, so core resources carry no "group" key.
    details: dict[str, Any] = {"name": name} if name else {}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural
    details.update(extra)
    return details


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(failure(404, "NotFound", f'{rt.qualified} "{name}" not found', _details(rt, name)))


def already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(failure(409, "AlreadyExists", f'{rt.qualified} "{name}" already exists',
                            _details(rt, name)))


def conflict(rt: ResourceType, name: str) -> ApiError:
    message = (f'Operation cannot be fulfilled on {rt.qualified} "{name}": the object has been modified; '
               "please apply your changes to the latest version and try again")
    return ApiError(failure(409, "Conflict", message, _details(rt, name)))


def precondition_conflict(rt: ResourceType, name: str, expected: str, actual: str) -> ApiError:
    message = (f'Operation cannot be fulfilled on {rt.qualified} "{name}": the ResourceVersion in the '
               f"precondition ({expected}) does not match the ResourceVersion in record ({actual}). "
               "The object might have been modified")
    return ApiError(failure(409, "Conflict", message, _details(rt, name)))


def forbidden(rt: ResourceType, verb: str, name: str, namespace: str | None, user: str,
              subresource: str = "") -> ApiError:
    resource = f"{rt.plural}/{subresource}" if subresource else rt.plural
    target = f'{rt.qualified} "{name}"' if name else rt.qualified
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = (f'{target} is forbidden: User "{user}" cannot {verb} resource "{resource}" in API group '
               f'"{rt.group}" {scope}')
    return ApiError(failure(403, "Forbidden", message, _details(rt, name)))


def unauthorized() -> ApiError:
    return ApiError(failure(401, "Unauthorized", "Unauthorized"))


def bad_request(message: str) -> ApiError:
    return ApiError(failure(400, "BadRequest", message))


def rv_required(rt: ResourceType, name: str) -> ApiError:
    """The registry's check for an unconditional update; it names the resource, not the kind."""
    cause = {"reason": "FieldValueInvalid", "field": "metadata.resourceVersion",
             "message": "Invalid value: 0x0: must be specified for an update"}
    message = f'{rt.qualified} "{name}" is invalid: metadata.resourceVersion: {cause["message"]}'
    details = {"name": name, **({"group": rt.group} if rt.group else {}), "kind": rt.plural, "causes": [cause]}
    return ApiError(failure(422, "Invalid", message, details))


def invalid(rt: ResourceType, name: str, causes: list[dict[str, str]]) -> ApiError:
    """422 with the aggregate message: one cause inline, several in brackets, as field.ErrorList does."""
    rendered = [f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes]
    summary = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    qualified_kind = f"{rt.kind}.{rt.group}" if rt.group else rt.kind
    message = f'{qualified_kind} "{name}" is invalid: {summary}'
    details: dict[str, Any] = {"name": name} if name else {}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.kind
    details["causes"] = causes
    return ApiError(failure(422, "Invalid", message, details))


def gone_too_old(requested: str, current: str) -> dict[str, Any]:
    return failure(410, "Expired", f"too old resource version: {requested} ({current})")


def gone_continue() -> ApiError:
    message = ("The provided continue parameter is too old to display a consistent list result. You can "
               "start a new list without the continue parameter, or use the continue token in this "
               "response to retrieve the remainder of the results. Continuing with the provided token "
               "results in an inconsistent list - objects that were created, modified, or deleted between "
               "the time the first chunk was returned and now may show up in the list.")
    return ApiError(failure(410, "Expired", message))


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    message = (f"the body of the request was in an unknown format - accepted media types include: "
               f"{', '.join(accepted)}")
    return ApiError(failure(415, "UnsupportedMediaType", message))


def method_not_allowed() -> ApiError:
    return ApiError(failure(405, "MethodNotAllowed",
                            "the server does not allow this method on the requested resource"))


def resource_not_found() -> ApiError:
    """A served group/version without the requested resource (unknown groups get plain-text 404)."""
    return ApiError(failure(404, "NotFound", "the server could not find the requested resource"))


def generic_failure(code: int) -> dict[str, Any]:
    """The Status a server sends for a bare HTTP error code (used by `Emulator.fail_next`)."""
    reasons = {429: ("TooManyRequests", "Too many requests, please try again later."),
               500: ("InternalError", "Internal error occurred: emulated failure"),
               503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
               504: ("Timeout", "Timeout: request did not complete within the allotted timeout")}
    reason, message = reasons.get(code, ("Unknown", f"the server responded with status {code}"))
    return failure(code, reason, message)
