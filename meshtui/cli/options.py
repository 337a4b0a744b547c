"""Cluster-selection flags shared by meshtui and its sub-commands."""

from __future__ import annotations

import argparse


def add_cluster_options(parser: argparse.ArgumentParser, *, sub_command: bool = False, scope: bool = True) -> None:
    """--demo, --kubeconfig, --context, and -n/-A unless ``scope`` is False (a sub-command with its
    own -n).

    On a sub-command the defaults are SUPPRESS: argparse would otherwise let the sub-parser's
    defaults overwrite the same flags given before the sub-command (``meshtui --demo check``).
    The top-level parser's None defaults keep every attribute present.
    """
    default = argparse.SUPPRESS if sub_command else None
    parser.add_argument("--demo", action="store_true", default=default,
                        help="use the built-in simulated mesh instead of a cluster")
    parser.add_argument("--kubeconfig", metavar="PATH", default=default,
                        help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", metavar="NAME", default=default,
                        help="kube context (default: the current context)")
    if not scope:
        return
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-n", "--namespace", metavar="NS", default=default, help="limit to one namespace")
    group.add_argument("-A", "--all-namespaces", action="store_true", default=default,
                       help="all namespaces (the default)")
