"""k9s's `:` command line: what the operator typed → one command. Pure, so every spelling is tested."""

from __future__ import annotations

from dataclasses import dataclass

# Spellings k9s users type (resource short names included) → meshtui's command.
ALIASES = {
    "ns": "ns", "namespace": "ns", "namespaces": "ns",
    "po": "pods", "pod": "pods", "pods": "pods",
    "ctx": "ctx", "context": "ctx", "contexts": "ctx",
    "findings": "findings", "finding": "findings", "f": "findings",
    "logs": "logs", "log": "logs",
    "pa": "policies", "policies": "policies", "pol": "policies",
    "help": "help", "?": "help",
    "q": "quit", "quit": "quit", "q!": "quit",
}
TAKES_ARGUMENT = {"ns", "ctx", "pods"}
USAGE = ":ns NAME   :pods [NAMESPACE]   :ctx [NAME]   :findings [FILTER]   :logs   :policies   :help   :q"


class CommandError(ValueError):
    """The line is not a command; the message says what is."""


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    argument: str = ""


def parse(line: str) -> Command:
    words = line.strip().lstrip(":").split()
    if not words:
        raise CommandError(f"empty command — {USAGE}")
    name = ALIASES.get(words[0].lower())
    if name is None:
        raise CommandError(f"unknown command {words[0][:40]!r} — {USAGE}")
    rest = words[1:]
    if name == "findings":
        return Command(name, " ".join(rest))
    if len(rest) > (1 if name in TAKES_ARGUMENT else 0):
        raise CommandError(f":{words[0]} takes {'one name' if name in TAKES_ARGUMENT else 'no argument'}")
    return Command(name, rest[0] if rest else "")


def pick(name: str, choices: list[str]) -> str | None:
    """An exact name, else the only one it starts, else the only one containing it (k9s-like)."""
    if name in choices:
        return name
    for candidates in ([c for c in choices if c.startswith(name)], [c for c in choices if name in c]):
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            return None
    return None
