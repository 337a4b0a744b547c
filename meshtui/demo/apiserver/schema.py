"""Structural-schema validation of custom resources as apiextensions-apiserver does it.

Unknown fields are pruned (reported back so the server can warn or, with fieldValidation=Strict,
reject), nulls in non-nullable fields are dropped, then types, enums, bounds and the supported CEL
rules are checked. Causes use apimachinery's field.Error wording.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from meshtui.demo.apiserver import cel

_JSON_TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
               "object": (dict,), "array": (list,)}
_TOP_LEVEL = ("apiVersion", "kind", "metadata")


@dataclass
class Result:
    value: Any
    causes: list[dict[str, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    names: dict[type, str] = {str: "string", dict: "object", list: "array"}
    return names.get(type(value), "null")


def _quote(value: Any) -> str:
    """Go's %q-ish rendering that field.Error uses for a value."""
    return json.dumps(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) \
        else str(value)


def _is_type(value: Any, schema: dict[str, Any]) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, (int, str)) and not isinstance(value, bool)
    expected = schema.get("type")
    if not expected:
        return True
    if isinstance(value, bool) and expected != "boolean":
        return False
    return isinstance(value, _JSON_TYPES[expected])


class _Validator:
    def __init__(self) -> None:
        self.causes: list[dict[str, str]] = []
        self.unknown: list[str] = []

    def add(self, reason: str, path: str, message: str) -> None:
        self.causes.append({"reason": reason, "message": message, "field": path})

    def walk(self, value: Any, schema: dict[str, Any], path: str, rule_path: str) -> Any:
        """Validate and prune ``value``. ``rule_path`` is the same location as CEL errors name it:
        map entries as ``m[key]`` where OpenAPI errors write ``m.key``."""
        if not _is_type(value, schema):
            kind = _type_name(value)
            self.add("FieldValueTypeInvalid", path,
                     f'Invalid value: "{kind}": {path} in body must be of type {schema["type"]}: "{kind}"')
            return value
        if "enum" in schema and value not in schema["enum"]:
            supported = ", ".join(_quote(v) for v in schema["enum"])
            self.add("FieldValueNotSupported", path,
                     f"Unsupported value: {_quote(value)}: supported values: {supported}")
        if isinstance(value, dict):
            value = self._object(value, schema, path, rule_path)
        elif isinstance(value, list):
            value = self._array(value, schema, path, rule_path)
        elif isinstance(value, str):
            self._string(value, schema, path)
        elif isinstance(value, (int, float)):
            self._number(value, schema, path)
        self._rules(value, schema, rule_path)
        return value

    def _object(self, value: dict[str, Any], schema: dict[str, Any], path: str,
                rule_path: str) -> dict[str, Any]:
        properties = schema.get("properties", {})
        additional = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
        result: dict[str, Any] = {}
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else key
            child_rule_path = f"{rule_path}.{key}" if rule_path else key
            child_schema = properties.get(key)
            if child_schema is None and isinstance(additional, dict):
                child_schema, child_rule_path = additional, f"{rule_path}[{key}]"
            if child is None and not (child_schema or {}).get("nullable"):
                continue  # apiextensions drops nulls of non-nullable fields before validating
            if child_schema is not None:
                result[key] = self.walk(child, child_schema, child_path, child_rule_path)
            elif preserve or (not path and key in _TOP_LEVEL):
                result[key] = child
            else:
                self.unknown.append(child_path)
        for key in schema.get("required", ()):
            if key not in result:
                self.add("FieldValueRequired", f"{path}.{key}" if path else key, "Required value")
        for bound, compare, word in (("minProperties", int.__lt__, "at least"),
                                     ("maxProperties", int.__gt__, "at most")):
            if bound in schema and compare(len(result), schema[bound]):
                self.add("FieldValueInvalid", path, f"Invalid value: {len(result)}: {path} in body should "
                                                    f"have {word} {schema[bound]} properties")
        return result

    def _array(self, value: list[Any], schema: dict[str, Any], path: str, rule_path: str) -> list[Any]:
        items = schema.get("items")
        result = [self.walk(item, items, f"{path}[{i}]", f"{rule_path}[{i}]") if items else item
                  for i, item in enumerate(value)]
        if "maxItems" in schema and len(result) > schema["maxItems"]:
            self.add("FieldValueTooMany", path,
                     f"Too many: {len(result)}: must have at most {schema['maxItems']} items")
        if "minItems" in schema and len(result) < schema["minItems"]:
            self.add("FieldValueInvalid", path, f"Invalid value: {len(result)}: {path} in body should have "
                                                f"at least {schema['minItems']} items")
        return result

    def _string(self, value: str, schema: dict[str, Any], path: str) -> None:
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            self.add("FieldValueTooLong", path, f"Too long: may not be longer than {schema['maxLength']}")
        if "minLength" in schema and len(value) < schema["minLength"]:
            self.add("FieldValueInvalid", path, f"Invalid value: {_quote(value)}: {path} in body should be "
                                                f"at least {schema['minLength']} chars long")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            self.add("FieldValueInvalid", path, f"Invalid value: {_quote(value)}: {path} in body should "
                                                f"match '{schema['pattern']}'")

    def _number(self, value: float, schema: dict[str, Any], path: str) -> None:
        if "minimum" in schema and value < schema["minimum"]:
            self.add("FieldValueInvalid", path, f"Invalid value: {value}: {path} in body should be greater "
                                                f"than or equal to {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            self.add("FieldValueInvalid", path, f"Invalid value: {value}: {path} in body should be less "
                                                f"than or equal to {schema['maximum']}")

    def _rules(self, value: Any, schema: dict[str, Any], path: str) -> None:
        for validation in schema.get("x-kubernetes-validations", ()):
            rule = validation["rule"]
            kind = schema.get("type", "object")
            try:
                outcome = cel.evaluate(rule, value)
            except cel.CelEvalError as error:
                self.add("FieldValueInvalid", path,
                         f'Invalid value: "{kind}": {error} evaluating rule: {rule.strip()}')
                continue
            if outcome is False:
                message = validation.get("message") or f"failed rule: {rule.strip()}"
                self.add(validation.get("reason", "FieldValueInvalid"), path,
                         f'Invalid value: "{kind}": {message}')


def validate(obj: dict[str, Any], schema: dict[str, Any]) -> Result:
    validator = _Validator()
    pruned = validator.walk(obj, schema, "", "")
    return Result(pruned, validator.causes, validator.unknown)
