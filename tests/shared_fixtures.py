"""Where the suite finds ../shared/fixtures (Istio's CRDs and real upstream test data)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
ISTIO_CRDS = FIXTURES / "istio" / "crd-all.gen.yaml"
