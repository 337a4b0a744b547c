"""The HTTP side of the emulator: routing, Kubernetes REST semantics and streaming responses."""

from __future__ import annotations

import copy
import json
import queue
import select
import socket
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from meshtui.demo.apiserver import discovery, websocket
from meshtui.demo.apiserver import status as st
from meshtui.demo.apiserver.admission import Admission
from meshtui.demo.apiserver.patch import json_patch, merge_patch
from meshtui.demo.apiserver.resources import ResourceType
from meshtui.demo.apiserver.selectors import field_matcher, label_matcher
from meshtui.demo.apiserver.store import BOOKMARK, CLOSE, Event, Watcher

if TYPE_CHECKING:
    from meshtui.demo.apiserver.server import Emulator

_MERGE = "application/merge-patch+json"
_STRATEGIC = "application/strategic-merge-patch+json"
_JSON_PATCH = "application/json-patch+json"
_APPLY = "application/apply-patch+yaml"


class Request(NamedTuple):
    """One request as the server saw it; ``query`` values are str, or a list when repeated."""

    method: str
    path: str
    query: dict[str, Any]
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Target:
    """What a resource URL names: /apis/GROUP/VERSION[/namespaces/NS]/PLURAL[/NAME[/SUB[/REST]]]."""

    rt: ResourceType
    version: str
    namespace: str
    name: str
    subresource: str = ""
    rest: str = ""  # path after pods/NAME/proxy/


def _single(query: dict[str, list[str]], name: str, default: str = "") -> str:
    values = query.get(name)
    return values[-1] if values else default


def _int_param(query: dict[str, list[str]], name: str) -> int | None:
    raw = _single(query, name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise st.bad_request(f'{name}: Invalid value: "{raw}": must be an integer') from None


def _true(query: dict[str, list[str]], name: str) -> bool:
    return _single(query, name).lower() in ("1", "true")


def _verb(method: str, target: Target, query: dict[str, list[str]]) -> str:
    if method == "GET":
        if target.subresource:
            return "get"
        if not target.name:
            return "watch" if _true(query, "watch") else "list"
        return "get"
    if method == "DELETE" and not target.name:
        return "deletecollection"
    verbs = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
    return verbs.get(method, method.lower())


class Handler(BaseHTTPRequestHandler):
    """One connection; ``emulator`` is set on a per-server subclass."""

    emulator: Emulator
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle on, the body waits for the client's
    # delayed ACK of the headers (~40 ms a request on loopback). Go's net/http, which kube-apiserver
    # serves with, sets TCP_NODELAY too.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line; tests read ``Emulator.requests`` instead."""

    # -- plumbing ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _send_bytes(self, code: int, body: bytes, content_type: str = "application/json",
                    headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Audit-Id", str(id(self)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, code: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send_bytes(code, json.dumps(obj, separators=(",", ":")).encode(), headers=headers)

    def _start_chunked(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _client_alive(self) -> bool:
        """False once the client has closed its end (readable socket with no data)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return not readable or bool(self.connection.recv(1, socket.MSG_PEEK))
        except OSError:
            return False

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        emulator = self.emulator
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        raw = self._read_body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        flat = {k: v[0] if len(v) == 1 else v for k, v in query.items()}
        emulator.record(Request(method, path, flat, body, headers))
        try:
            if self.headers.get("Authorization") != f"Bearer {emulator.token}":
                raise st.unauthorized()
            failure = emulator.take_failure()
            if failure is not None:
                raise st.ApiError(failure)
            self._route(method, path, query, body)
        except st.ApiError as error:
            self._send_json(error.code, error.status)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as error:
            # A server bug: answer as the apiserver does for a panic; the traceback is kept for tests to
            # see (never printed: under the demo's TUI it would land on the screen).
            emulator.internal_errors.append(traceback.format_exc())
            self._send_json(500, st.failure(500, "InternalError", f"Internal error occurred: {error}"))

    # -- routing -------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> None:
        emulator = self.emulator
        parts = [p for p in path.split("/") if p]
        if method == "GET" and parts in (["version"], ["version", ""]):
            return self._send_json(200, discovery.KUBERNETES_VERSION)
        if method == "GET" and parts == ["api"]:
            return self._send_json(200, discovery.api_versions(emulator.url.removeprefix("http://")))
        if method == "GET" and parts == ["apis"]:
            return self._send_json(200, discovery.api_group_list(emulator.types))
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 2:
            if len(parts) == 2:
                found = discovery.api_group(emulator.types, parts[1])
                return self._send_json(200, found) if found else self._plain_404()
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return self._plain_404()
        if discovery.api_resource_list(emulator.types, group, version) is None:
            return self._plain_404()
        if not rest:
            if method != "GET":
                raise st.method_not_allowed()
            return self._send_json(200, discovery.api_resource_list(emulator.types, group, version))
        target = self._target(group, version, rest)
        self._authorize(method, target, query)
        if target.subresource:
            return self._subresource(method, target, query, body)
        if target.rt.plural == "selfsubjectaccessreviews":
            return self._access_review(method, body)
        handlers = {"GET": self._get_or_list, "POST": self._create, "PUT": self._replace,
                    "PATCH": self._patch, "DELETE": self._delete}
        handlers[method](target, query, body)

    def _plain_404(self) -> None:
        self._send_bytes(404, b"404 page not found\n", "text/plain; charset=utf-8",
                         {"X-Content-Type-Options": "nosniff"})

    def _target(self, group: str, version: str, rest: list[str]) -> Target:
        lookup = self.emulator.lookup
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces" and lookup(group, version, rest[2]) is not None:
            namespace, rest = rest[1], rest[2:]
        rt = lookup(group, version, rest[0])
        if rt is None or (namespace and not rt.namespaced):
            raise st.resource_not_found()
        name = rest[1] if len(rest) > 1 else ""
        subresource = rest[2] if len(rest) > 2 else ""
        if subresource and subresource not in rt.subresources:
            raise st.resource_not_found()
        return Target(rt, version, namespace, name, subresource, "/".join(rest[3:]))

    def _authorize(self, method: str, target: Target, query: dict[str, list[str]]) -> None:
        verb = _verb(method, target, query)
        resource = f"{target.rt.plural}/{target.subresource}" if target.subresource else target.rt.plural
        namespace = target.namespace or None
        if target.rt.plural == "namespaces" and target.name:
            # The apiserver's RequestInfo reads /api/v1/namespaces/NAME as namespace NAME, so RBAC
            # (and its message) puts a namespace object in its own namespace.
            namespace = target.name
        if self.emulator.is_denied(verb, resource, namespace):
            name = target.name.partition(":")[0]
            raise st.forbidden(target.rt, verb, name, namespace, self.emulator.user, target.subresource)

    # -- reads ---------------------------------------------------------------------------------

    def _output(self, rt: ResourceType, version: str, obj: dict[str, Any]) -> dict[str, Any]:
        return obj if obj.get("apiVersion") == rt.api_version(version) else \
            {**obj, "apiVersion": rt.api_version(version)}

    def _get_or_list(self, target: Target, query: dict[str, list[str]], body: Any) -> None:
        rt, store = target.rt, self.emulator.store
        if target.name:
            return self._send_json(200, self._output(rt, target.version,
                                                     store.get(rt, target.namespace, target.name)))
        matchers = [m for m in (label_matcher(_single(query, "labelSelector")),
                                field_matcher(_single(query, "fieldSelector"), rt.kind)) if m]
        if _true(query, "watch"):
            return self._watch(target, query, matchers)
        items, rv, token, remaining = store.list(rt, target.namespace, matchers,
                                                 _int_param(query, "limit") or 0, _single(query, "continue"))
        api_version = rt.api_version(target.version)
        if rt.is_crd:
            rendered = [obj if obj["apiVersion"] == api_version else {**obj, "apiVersion": api_version}
                        for obj in items]
        else:
            # Built-in lists carry no kind/apiVersion on their items; custom resource lists do.
            rendered = [{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")} for obj in items]
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if token:
            meta["continue"] = token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        self._send_json(200, {"kind": f"{rt.kind}List", "apiVersion": api_version, "metadata": meta,
                              "items": rendered})

    def _watch(self, target: Target, query: dict[str, list[str]], matchers: list[Any]) -> None:
        rt, store = target.rt, self.emulator.store
        raw_rv = _single(query, "resourceVersion")
        since = None if raw_rv in ("", "0") else _int_param(query, "resourceVersion")
        timeout = _int_param(query, "timeoutSeconds")
        bookmarks = _true(query, "allowWatchBookmarks")
        subscription = store.subscribe(rt, since)
        if subscription is None:
            gone = st.gone_too_old(raw_rv, str(store.resource_version))
            if self.emulator.gone_as_http:
                raise st.ApiError(gone)
            self._start_chunked("application/json")
            self._chunk(json.dumps({"type": "ERROR", "object": gone}).encode() + b"\n")
            return self._end_chunked()
        watcher, backlog = subscription
        deadline = time.monotonic() + timeout if timeout else None
        self._start_chunked("application/json")
        try:
            for item in self._watch_items(watcher, backlog, deadline):
                line = self._watch_line(target, matchers, item, bookmarks)
                if line:
                    self._chunk(line)
            self._end_chunked()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            store.unsubscribe(watcher)

    def _watch_items(self, watcher: Watcher, backlog: list[Event],
                     deadline: float | None) -> Iterator[Event | str]:
        yield from backlog
        while True:
            # Wake once a second to notice a client that hung up; an idle watch costs next to no CPU.
            wait = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if wait <= 0:
                return
            try:
                item = watcher.queue.get(timeout=wait)
            except queue.Empty:  # check the client and the deadline again
                if not self._client_alive():
                    return
                continue
            if item == CLOSE:
                return
            yield item

    def _watch_line(self, target: Target, matchers: list[Any], item: Event | str, bookmarks: bool) -> bytes:
        rt, version = target.rt, target.version
        if item == BOOKMARK:
            if not bookmarks:
                return b""
            marker = {"kind": rt.kind, "apiVersion": rt.api_version(version),
                      "metadata": {"resourceVersion": str(self.emulator.store.resource_version)}}
            return json.dumps({"type": "BOOKMARK", "object": marker}).encode() + b"\n"
        assert isinstance(item, Event)

        def visible(obj: dict[str, Any] | None) -> bool:
            if obj is None:
                return False
            if target.namespace and obj["metadata"].get("namespace") != target.namespace:
                return False
            return all(match(obj) for match in matchers)

        kind, obj = item.type, item.obj
        if kind == "MODIFIED":
            now_in, was_in = visible(obj), visible(item.old)
            if not now_in and not was_in:
                return b""
            if not was_in:
                kind = "ADDED"
            elif not now_in:
                # The watch cache reports an object leaving the selector as DELETED, carrying the
                # previous state stamped with the new resourceVersion.
                assert item.old is not None
                stamped = {**item.old["metadata"], "resourceVersion": obj["metadata"]["resourceVersion"]}
                kind, obj = "DELETED", {**item.old, "metadata": stamped}
        elif not visible(obj):
            return b""
        return json.dumps({"type": kind, "object": self._output(rt, version, obj)},
                          separators=(",", ":")).encode() + b"\n"

    # -- writes --------------------------------------------------------------------------------

    def _write_options(self, target: Target, query: dict[str, list[str]]) -> tuple[bool, str, Admission]:
        dry_run = query.get("dryRun", [])
        if any(v != "All" for v in dry_run):
            raise st.bad_request(f'dryRun: Unsupported value: "{dry_run[0]}": supported values: "All"')
        manager = _single(query, "fieldManager") or self.headers.get("User-Agent", "").split("/")[0]
        return bool(dry_run), manager, Admission(target.rt, target.version, _single(query, "fieldValidation"))

    def _written(self, code: int, target: Target, obj: dict[str, Any], admission: Admission) -> None:
        warnings = ", ".join('299 - "{}"'.format(w.replace('"', '\\"')) for w in admission.warnings)
        headers = {"Warning": warnings} if warnings else None
        self._send_json(code, self._output(target.rt, target.version, obj), headers)

    def _require_object(self, body: Any, target: Target | None = None) -> dict[str, Any]:
        """The request body as an object; with ``target``, one whose namespace matches the URL's."""
        if not isinstance(body, dict):
            raise st.bad_request("the object provided is unrecognized (must be of type object)")
        namespace = body.get("metadata", {}).get("namespace")
        if target is not None and target.rt.namespaced and namespace and namespace != target.namespace:
            raise st.bad_request("the namespace of the provided object does not match the namespace sent on "
                                 "the request")
        return body

    @staticmethod
    def _check_type_meta(target: Target, obj: dict[str, Any]) -> None:
        """A body must be of the URL's resource: another API version is a bad request, as the
        create and update handlers decide; another kind fails validation (the apiextensions
        validator's wording, which the built-in types share here)."""
        rt = target.rt
        sent = obj.get("apiVersion")
        if sent:
            group, _, version = str(sent).rpartition("/")
            if group != rt.group or version not in rt.versions:
                raise st.bad_request(f"the API version in the data ({sent}) does not match the expected API "
                                     f"version ({rt.api_version(target.version)})")
        kind = obj.get("kind")
        if kind and kind != rt.kind:
            name = str(obj.get("metadata", {}).get("name", ""))
            raise st.invalid(rt, name, [{"reason": "FieldValueInvalid", "field": "kind",
                                         "message": f'Invalid value: "{kind}": must be {rt.kind}'}])

    def _create(self, target: Target, query: dict[str, list[str]], body: Any) -> None:
        if target.name:
            raise st.method_not_allowed()
        obj = self._require_object(body, target)
        self._check_type_meta(target, obj)
        rv = str(obj.get("metadata", {}).get("resourceVersion") or "")
        if rv.isdigit() and int(rv) != 0:
            # The storage layer refuses this (storage.ErrResourceVersionSetOnCreate); the handler
            # turns a plain error into a 500 Status without a reason.
            raise st.ApiError(st.failure(500, "", "resourceVersion should not be set on objects to be created"))
        dry_run, manager, admission = self._write_options(target, query)
        created = self.emulator.store.create(
            target.rt, target.namespace, obj, admission, dry_run=dry_run, manager=manager,
            api_version=target.rt.api_version(target.version))
        self._written(201, target, created, admission)

    def _replace(self, target: Target, query: dict[str, list[str]], body: Any) -> None:
        obj = self._require_object(body, target)
        self._check_name(target, obj)
        self._check_type_meta(target, obj)
        dry_run, manager, admission = self._write_options(target, query)
        updated = self.emulator.store.update(
            target.rt, target.namespace, target.name, lambda old: copy.deepcopy(obj), admission,
            dry_run=dry_run, manager=manager, api_version=target.rt.api_version(target.version),
            status_only=target.subresource == "status", conditional=target.rt.is_crd)
        self._written(200, target, updated, admission)

    @staticmethod
    def _check_name(target: Target, obj: dict[str, Any]) -> None:
        sent_name = obj.get("metadata", {}).get("name", "")
        if sent_name != target.name:
            raise st.bad_request(f"the name of the object ({sent_name}) does not match the name on the URL "
                                 f"({target.name})")

    def _patch(self, target: Target, query: dict[str, list[str]], body: Any) -> None:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        accepted = [_JSON_PATCH, _MERGE] + ([] if target.rt.is_crd else [_STRATEGIC])
        if content_type not in accepted:
            raise st.unsupported_media_type(content_type, [*accepted, _APPLY])
        if content_type == _JSON_PATCH:
            def patched(old: dict[str, Any]) -> dict[str, Any]:
                return json_patch(old, body)
        else:
            # Strategic merge on built-ins is served as a plain merge: maps merge, lists are replaced.
            patch = self._require_object(body)

            def patched(old: dict[str, Any]) -> dict[str, Any]:
                merged: dict[str, Any] = merge_patch(copy.deepcopy(old), patch)  # a map merged with a map
                return merged

        def change(old: dict[str, Any]) -> dict[str, Any]:
            new = patched(old)
            if not isinstance(new.get("metadata"), dict):
                raise st.bad_request("metadata: the patched object has no metadata")
            self._check_name(target, new)
            return new
        dry_run, manager, admission = self._write_options(target, query)
        updated = self.emulator.store.update(
            target.rt, target.namespace, target.name, change, admission, dry_run=dry_run, manager=manager,
            api_version=target.rt.api_version(target.version), status_only=target.subresource == "status")
        self._written(200, target, updated, admission)

    def _delete(self, target: Target, query: dict[str, list[str]], body: Any) -> None:
        if not target.name:
            raise st.method_not_allowed()
        options = body if isinstance(body, dict) else {}
        dry_run_values = list(query.get("dryRun", [])) + list(options.get("dryRun") or [])
        if any(v != "All" for v in dry_run_values):
            raise st.bad_request(f'dryRun: Unsupported value: "{dry_run_values[0]}": supported values: "All"')
        preconditions = options.get("preconditions") or {}
        rt = target.rt
        deleted = self.emulator.store.delete(
            rt, target.namespace, target.name, dry_run=bool(dry_run_values),
            precondition_rv=preconditions.get("resourceVersion"), precondition_uid=preconditions.get("uid"))
        if rt.plural == "pods" and not dry_run_values:
            self.emulator.dataplane.pod_deleted(target.namespace, target.name)
        if rt.plural in ("pods", "namespaces"):
            # Pods (graceful deletion) and namespaces (finalization) come back as the object itself.
            shown = copy.deepcopy(deleted)
            shown["metadata"]["deletionTimestamp"] = self.emulator.store.now()
            if rt.plural == "namespaces":
                shown.setdefault("status", {})["phase"] = "Terminating"
            else:
                shown["metadata"]["deletionGracePeriodSeconds"] = 30
            return self._send_json(200, self._output(rt, target.version, shown))
        details = {"name": target.name} | ({"group": rt.group} if rt.group else {}) | \
            {"kind": rt.plural, "uid": deleted["metadata"]["uid"]}
        self._send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                              "details": details})

    # -- subresources --------------------------------------------------------------------------

    def _subresource(self, method: str, target: Target, query: dict[str, list[str]], body: Any) -> None:
        if target.subresource == "status":
            status_handlers = {"GET": self._get_or_list, "PUT": self._replace, "PATCH": self._patch}
            if method not in status_handlers:
                raise st.method_not_allowed()
            return status_handlers[method](target, query, body)
        handlers = {("log", "GET"): self._log, ("proxy", "GET"): self._proxy, ("exec", "GET"): self._exec,
                    ("exec", "POST"): self._exec}
        handler = handlers.get((target.subresource, method))
        if handler is None or target.rt.plural != "pods":
            raise st.method_not_allowed()
        handler(target, query)

    def _pod(self, target: Target) -> tuple[str, dict[str, Any]]:
        pod_name = target.name.partition(":")[0]
        return pod_name, self.emulator.store.get(target.rt, target.namespace, pod_name)

    def _container(self, pod_name: str, pod: dict[str, Any], container: str) -> str:
        spec = pod.get("spec", {})
        names: list[str] = [c["name"] for c in spec.get("containers", ())]  # the schema made them strings
        init = [c["name"] for c in spec.get("initContainers", ())]
        ephemeral = [c["name"] for c in spec.get("ephemeralContainers", ())]
        if not container:
            if len(names) == 1:
                return names[0]
            if not names:
                raise st.bad_request(f"a container name must be specified for pod {pod_name}")
            message = (f"a container name must be specified for pod {pod_name}, "
                       f"choose one of: [{' '.join(names)}]")
            if init:
                message += f" or one of the init containers: [{' '.join(init)}]"
            raise st.bad_request(message)
        if container not in names + init + ephemeral:
            raise st.bad_request(f"container {container} is not valid for pod {pod_name}")
        return container

    def _log(self, target: Target, query: dict[str, list[str]]) -> None:
        pod_name, pod = self._pod(target)
        container = self._container(pod_name, pod, _single(query, "container"))
        lines = self.emulator.dataplane.log(
            (target.namespace, pod_name, container), tail=_int_param(query, "tailLines"),
            since_seconds=_int_param(query, "sinceSeconds"), timestamps=_true(query, "timestamps"),
            follow=_true(query, "follow"), alive=self._client_alive)
        self._start_chunked("text/plain")
        try:
            for line in lines:
                self._chunk(line.encode())
            self._end_chunked()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _proxy(self, target: Target, query: dict[str, list[str]]) -> None:
        pod_name, _ = self._pod(target)
        port = int(target.name.partition(":")[2] or 80)
        answer = self.emulator.dataplane.proxy(target.namespace, pod_name, port, target.rest)
        if answer is None:
            # The pod answered 404 itself; the apiserver relays the body unchanged.
            return self._send_bytes(404, b"404 page not found\n", "text/plain; charset=utf-8")
        text, status = answer
        self._send_bytes(status, text.encode(), "text/plain; version=0.0.4; charset=utf-8")

    def _exec(self, target: Target, query: dict[str, list[str]]) -> None:
        pod_name, pod = self._pod(target)
        container = self._container(pod_name, pod, _single(query, "container"))
        protocol = websocket.choose_protocol(self.headers.get("Sec-WebSocket-Protocol", ""))
        if self.headers.get("Upgrade", "").lower() != "websocket" or protocol is None:
            raise st.bad_request("Upgrade request required")
        command = query.get("command", [])
        if not command:
            raise st.bad_request("you must specify at least 1 command")
        stdout, stderr, code = self.emulator.dataplane.exec(target.namespace, pod_name, container, list(command))
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", websocket.accept_key(self.headers["Sec-WebSocket-Key"]))
        self.send_header("Sec-WebSocket-Protocol", protocol)
        self.end_headers()
        frames = []
        if _true(query, "stdout") and stdout:
            frames.append(websocket.channel_frame(websocket.STDOUT, stdout.encode()))
        if _true(query, "stderr") and stderr:
            frames.append(websocket.channel_frame(websocket.STDERR, stderr.encode()))
        if code == 0:
            result: dict[str, Any] = {"metadata": {}, "status": "Success"}
        else:
            result = {"metadata": {}, "status": "Failure",
                      "message": f"command terminated with non-zero exit code: error executing command "
                                 f"[{' '.join(command)}], exit code {code}",
                      "reason": "NonZeroExitCode",
                      "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}
        frames.append(websocket.channel_frame(websocket.ERROR, json.dumps(result).encode()))
        frames.append(websocket.close_frame())
        self.wfile.write(b"".join(frames))
        self.wfile.flush()
        self.close_connection = True

    # -- authorization.k8s.io --------------------------------------------------------------------

    def _access_review(self, method: str, body: Any) -> None:
        if method != "POST":
            raise st.method_not_allowed()
        review = self._require_object(body)
        attributes = review.get("spec", {}).get("resourceAttributes") or {}
        resource = attributes.get("resource", "")
        if attributes.get("subresource"):
            resource += f"/{attributes['subresource']}"
        namespace = attributes.get("namespace") or None
        allowed = not self.emulator.is_denied(attributes.get("verb", ""), resource, namespace)
        result = {**review, "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "metadata": {"creationTimestamp": None}, "status": {"allowed": allowed}}
        self._send_json(201, result)
