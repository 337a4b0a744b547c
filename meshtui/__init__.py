"""meshtui: operate an Istio service mesh from the terminal."""

__version__ = "0.1.0"
