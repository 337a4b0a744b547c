"""ObjectMeta as the apiserver validates it: label and annotation keys and values, and their types.

Messages follow apimachinery's validation (k8s.io/apimachinery/pkg/util/validation and
pkg/api/validation/objectmeta.go), which is what a user of kubectl sees.
"""

from __future__ import annotations

import json
import re
from typing import Any

from meshtui.demo.apiserver import status as st
from meshtui.demo.apiserver.resources import ResourceType

_NAME_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_NAME_PART_MESSAGE = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                      "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                      "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
_LABEL_VALUE_MESSAGE = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                        "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                        "'my_value',  or '12345', regex used for validation is "
                        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
_PREFIX_MESSAGE = ("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                   "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
                   "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
ANNOTATIONS_MAX_BYTES = 256 * 1024
_GO_TYPES = {bool: "bool", int: "number", float: "number", list: "array", dict: "object"}


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _key_errors(key: str) -> list[str]:
    """IsQualifiedName: an optional DNS-subdomain prefix and a name part of at most 63 characters."""
    prefix, slash, name = key.rpartition("/")
    errors = []
    if slash and not prefix:
        errors.append("prefix part must be non-empty")
    elif slash:
        if len(prefix) > 253:
            errors.append("prefix part must be no more than 253 characters")
        if not _DNS_SUBDOMAIN.fullmatch(prefix):
            errors.append(_PREFIX_MESSAGE)
    if not name:
        errors.append("name part must be non-empty")
    else:
        if len(name) > 63:
            errors.append("name part must be no more than 63 characters")
        if not _NAME_PART.fullmatch(name):
            errors.append(_NAME_PART_MESSAGE)
    return errors


def _causes(field: str, key: str, errors: list[str]) -> list[dict[str, str]]:
    return [{"reason": "FieldValueInvalid", "field": field, "message": f"Invalid value: {_quote(key)}: {e}"}
            for e in errors]


def _decode_error(rt: ResourceType, version: str, field: str, value: Any) -> st.ApiError:
    """What the JSON decoder says before validation runs: a wrongly typed map or value."""
    got = _GO_TYPES.get(type(value), "null" if value is None else "value")
    return st.bad_request(f'{rt.kind} in version "{version}" cannot be handled as a {rt.kind}: json: cannot '
                          f"unmarshal {got} into Go struct field ObjectMeta.metadata.{field} of type string")


def check_types(rt: ResourceType, version: str, meta: dict[str, Any]) -> None:
    """Labels and annotations must be maps of strings, or the request does not even decode (400)."""
    for field in ("labels", "annotations"):
        value = meta.get(field)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise _decode_error(rt, version, field, value)
        for item in value.values():
            if not isinstance(item, str):
                raise _decode_error(rt, version, field, item)


def causes(meta: dict[str, Any]) -> list[dict[str, str]]:
    """422 causes for invalid label keys and values, annotation keys and oversized annotations."""
    found: list[dict[str, str]] = []
    for key, value in (meta.get("labels") or {}).items():
        found += _causes("metadata.labels", key, _key_errors(key))
        value_errors = []
        if len(value) > 63:
            value_errors.append("must be no more than 63 characters")
        if not _LABEL_VALUE.fullmatch(value):
            value_errors.append(_LABEL_VALUE_MESSAGE)
        found += _causes("metadata.labels", value, value_errors)
    annotations = meta.get("annotations") or {}
    for key in annotations:
        found += _causes("metadata.annotations", key, _key_errors(key.lower()))
    size = sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items())
    if size > ANNOTATIONS_MAX_BYTES:
        found.append({"reason": "FieldValueTooLong", "field": "metadata.annotations",
                      "message": f"Too long: must have at most {ANNOTATIONS_MAX_BYTES} bytes"})
    return found
