"""JSON decoders on what the API server sends: a 500-pod list page and 2,000 watch events.

Run:  python tests/bench/bench_decode.py   (orjson is measured when installed; meshtui uses msgspec)
CPU time (not wall time, which the shared machine makes noisy), best of 5, and the memory the
decoded page holds (tracemalloc).
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_kube_scale import mesh_pod_template

RUNS = 5


def best(action: Callable[[], Any]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.process_time()
        action()
        times.append(time.process_time() - started)
    return min(times)


def main() -> None:
    pod = mesh_pod_template()
    page = json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"},
                       "items": [pod] * 500}).encode()
    events = [json.dumps({"type": "MODIFIED", "object": pod}).encode() for _ in range(2000)]
    decoders: dict[str, Callable[[bytes], Any]] = {"json": json.loads, "msgspec": msgspec.json.Decoder().decode}
    try:
        import orjson

        decoders["orjson"] = orjson.loads
    except ImportError:
        pass
    print(f"500-pod page {len(page) / 1e6:.2f} MB; 2,000 watch events of {len(events[0]) / 1e3:.1f} kB")
    for name, decode in decoders.items():
        page_s = best(lambda decode=decode: decode(page))
        events_s = best(lambda decode=decode: [decode(e) for e in events])
        tracemalloc.start()
        held = decode(page)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del held
        print(f"  {name:8} page {page_s * 1000:6.1f} ms   events {events_s * 1000:6.1f} ms   "
              f"page held (tracemalloc) {peak / 1e6:5.1f} MB")


if __name__ == "__main__":
    main()
