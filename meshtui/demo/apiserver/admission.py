"""What the apiserver checks before storing a write: name rules, typemeta, CRD schema and CEL."""

from __future__ import annotations

import re
from typing import Any

from meshtui.demo.apiserver import metadata, schema
from meshtui.demo.apiserver import status as st
from meshtui.demo.apiserver.resources import ResourceType

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_MESSAGE = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
                  "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
                  "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
_SUBDOMAIN_MESSAGE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                      "'-' or '.', and must start and end with an alphanumeric character "
                      "(e.g. 'example.com', regex used for validation is "
                      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")

FIELD_VALIDATION = ("Ignore", "Warn", "Strict")


def _name_causes(rt: ResourceType, name: str) -> list[dict[str, str]]:
    if not name:
        return [{"reason": "FieldValueRequired", "field": "metadata.name",
                 "message": "Required value: name or generateName is required"}]
    label = rt.plural in ("namespaces", "services")
    pattern, message, limit = (
        (_DNS_LABEL, _LABEL_MESSAGE, 63) if label else (_DNS_SUBDOMAIN, _SUBDOMAIN_MESSAGE, 253))
    causes = []
    if len(name) > limit:
        causes.append({"reason": "FieldValueInvalid", "field": "metadata.name",
                       "message": f'Invalid value: "{name}": must be no more than {limit} characters'})
    if not pattern.fullmatch(name):
        causes.append({"reason": "FieldValueInvalid", "field": "metadata.name",
                       "message": f'Invalid value: "{name}": {message}'})
    return causes


NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def apply_defaults(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """Server-side defaults a client always sees; namespaces get their finalizer, phase and the
    immutable kubernetes.io/metadata.name label (which namespaceSelectors rely on)."""
    if rt.group == "" and rt.plural == "namespaces":
        meta = obj.setdefault("metadata", {})
        meta["labels"] = {**(meta.get("labels") or {}), NAMESPACE_NAME_LABEL: meta.get("name", "")}
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
    return obj


class Admission:
    """Validates one request's object; collects the warnings the response must carry."""

    def __init__(self, rt: ResourceType, version: str, field_validation: str):
        if field_validation and field_validation not in FIELD_VALIDATION:
            raise st.bad_request(f"fieldValidation parameter unsupported: {field_validation}")
        self.rt = rt
        self.version = version
        self.field_validation = field_validation or "Warn"
        self.warnings: list[str] = []

    def __call__(self, obj: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        rt = self.rt
        obj["apiVersion"] = rt.api_version(self.version)
        obj["kind"] = rt.kind
        apply_defaults(rt, obj)
        meta = obj.setdefault("metadata", {})
        metadata.check_types(rt, self.version, meta)
        name = meta.get("name", "")
        causes = _name_causes(rt, name) if old is None else []
        causes.extend(metadata.causes(meta))
        if rt.schemas is not None:
            result = schema.validate(obj, rt.schemas[self.version])
            if result.unknown and self.field_validation == "Strict":
                unknown = ", ".join(f'unknown field "{path}"' for path in result.unknown)
                raise st.bad_request(f'{rt.kind} in version "{self.version}" cannot be handled as a '
                                     f"{rt.kind}: strict decoding error: {unknown}")
            if self.field_validation == "Warn":
                self.warnings.extend(f'unknown field "{path}"' for path in result.unknown)
            obj = result.value
            causes.extend(result.causes)
        if causes:
            raise st.invalid(rt, name, causes)
        return obj
