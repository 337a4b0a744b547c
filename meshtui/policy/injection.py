"""Sidecar injection as Istio's injector decides it, and the injection labels istioctl checks.

The decision has two stages, both modelled: the mutating webhooks' namespace/object selectors decide
whether the injector is called at all, then the injector itself reads ``sidecar.istio.io/inject``
(the label wins over the annotation) and its ``enabled`` policy.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from meshtui.model.objects import Namespace

INJECT_KEY = "sidecar.istio.io/inject"
LEGACY_LABEL = "istio-injection"
REV_LABEL = "istio.io/rev"
DATAPLANE_LABEL = "istio.io/dataplane-mode"

# istioctl's util.IsSystemNamespace, plus the injector's always-ignored namespaces.
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage"})

_YES = {"y", "yes", "true", "on"}


def inject_value(labels: Mapping[str, str], annotations: Mapping[str, str]) -> str | None:
    """The pod's own injection request: the label if present, else the annotation."""
    if INJECT_KEY in labels:
        return labels[INJECT_KEY]
    return annotations.get(INJECT_KEY)


def _injector_says(labels: Mapping[str, str], annotations: Mapping[str, str]) -> bool:
    value = inject_value(labels, annotations)
    if not value:
        return True  # the default "enabled" policy
    return value.lower() in _YES


def would_inject(
    namespace: Namespace | None,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    *,
    host_network: bool = False,
    revisions: Iterable[str] = (),
) -> bool:
    """Whether a pod created now with these labels/annotations gets a sidecar.

    ``revisions`` lists the installed control-plane revisions; empty means unknown, and a
    revision label is then assumed to name an installed one.
    """
    ns_name = namespace.name if namespace else ""
    if host_network or ns_name in SYSTEM_NAMESPACES:
        return False
    ns_labels = namespace.labels if namespace else {}
    known = set(revisions)
    pod_label = labels.get(INJECT_KEY)
    legacy = ns_labels.get(LEGACY_LABEL)
    ns_rev = ns_labels.get(REV_LABEL)
    if legacy is not None:
        # Only "enabled" selects the namespace webhook; any other value opts the namespace out.
        webhook = legacy == "enabled" and pod_label != "false"
    elif ns_rev:
        webhook = pod_label != "false" and (not known or ns_rev in known)
    else:
        # Unlabelled namespace: the object-selector webhooks need the pod label itself.
        pod_rev = labels.get(REV_LABEL)
        by_rev = pod_label != "false" and (not known or pod_rev in known)
        webhook = by_rev if pod_rev else pod_label == "true"
    return webhook and _injector_says(labels, annotations)


def injection_labels(namespace: Namespace) -> list[str]:
    """The labels that each enable a data plane for the namespace (istioctl's IST0123 input)."""
    out = []
    if namespace.labels.get(LEGACY_LABEL) == "enabled":
        out.append(f"{LEGACY_LABEL}=enabled")
    if REV_LABEL in namespace.labels:
        out.append(f"{REV_LABEL}={namespace.labels[REV_LABEL]}")
    if namespace.labels.get(DATAPLANE_LABEL) == "ambient":
        out.append(f"{DATAPLANE_LABEL}=ambient")
    return out
