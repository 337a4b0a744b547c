"""Immutable model objects and the cluster snapshot."""

from meshtui.model.objects import *  # noqa: F403
from meshtui.model.snapshot import ChangeEvent, ModelObject, Snapshot, key_of

__all__ = [  # noqa: F405
    "EPOCH", "PROXY_CONTAINER", "AuthorizationPolicy", "ChangeEvent", "Container", "ContainerPort",
    "DestinationRule", "MeshSettings", "ModelObject", "Namespace", "PeerAuthentication", "Pod", "Ref",
    "Service", "ServicePort", "Sidecar", "Snapshot", "TLSSettings", "VirtualService", "Workload", "key_of",
]
