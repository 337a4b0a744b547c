"""PATCH bodies: RFC 7386 merge patch and RFC 6902 JSON patch (evanphx/json-patch error wording)."""

from __future__ import annotations

import copy
from typing import Any

from meshtui.demo.apiserver.status import ApiError, failure


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _patch_error(message: str) -> ApiError:
    return ApiError(failure(422, "Invalid", message))


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise _patch_error(f"invalid JSON pointer: {pointer}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _parent(doc: Any, pointer: str, op: str) -> tuple[Any, str]:
    tokens = _tokens(pointer)
    if not tokens:
        raise _patch_error(f"{op} operation does not apply: doc is missing path: {pointer}")
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise _patch_error(f"{op} operation does not apply: doc is missing path: {pointer}: "
                               "missing value")
    return node, tokens[-1]


def _get(doc: Any, pointer: str, op: str) -> Any:
    node, key = _parent(doc, pointer, op)
    if isinstance(node, dict) and key in node:
        return node[key]
    if isinstance(node, list) and key.isdigit() and int(key) < len(node):
        return node[int(key)]
    raise _patch_error(f"{op} operation does not apply: doc is missing key: {pointer}: missing value")


def _add(doc: Any, pointer: str, value: Any) -> None:
    node, key = _parent(doc, pointer, "add")
    if isinstance(node, dict):
        node[key] = value
    elif isinstance(node, list):
        index = len(node) if key == "-" else int(key) if key.isdigit() else -1
        if not 0 <= index <= len(node):
            raise _patch_error(f"add operation does not apply: doc is missing path: {pointer}: "
                               "missing value")
        node.insert(index, value)
    else:
        raise _patch_error(f"add operation does not apply: doc is missing path: {pointer}: missing value")


def _remove(doc: Any, pointer: str, op: str = "remove") -> Any:
    value = _get(doc, pointer, op)
    node, key = _parent(doc, pointer, op)
    if isinstance(node, dict):
        del node[key]
    else:
        del node[int(key)]
    return value


def json_patch(doc: dict[str, Any], operations: Any) -> dict[str, Any]:
    if not isinstance(operations, list):
        raise ApiError(failure(400, "BadRequest", "json: cannot unmarshal object into Go value of type "
                                                   "jsonpatch.Patch"))
    result = copy.deepcopy(doc)
    for operation in operations:
        op, path = operation.get("op"), operation.get("path", "")
        if op == "add":
            _add(result, path, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            _remove(result, path)
        elif op == "replace":
            _get(result, path, "replace")
            _remove(result, path, "replace")
            _add(result, path, copy.deepcopy(operation.get("value")))
        elif op == "move":
            _add(result, path, _remove(result, operation.get("from", ""), "move"))
        elif op == "copy":
            _add(result, path, copy.deepcopy(_get(result, operation.get("from", ""), "copy")))
        elif op == "test":
            if _get(result, path, "test") != operation.get("value"):
                raise _patch_error(f"testing value {path} failed: test failed")
        else:
            raise _patch_error(f"Unexpected kind: {op}")
    return result
