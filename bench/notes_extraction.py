"""Time ``analyze_note`` over the shipped dataset and print median / p95 / max per note.

Run from the repository root: ``python bench/notes_extraction.py [repeats]``. The engine
is plain Python, so no Django settings are needed. Both shipped sets (tuning and held-out)
are timed. The figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from notes.extraction import analyze_note  # noqa: E402

DATASETS = [ROOT / "notes" / "extraction" / "dataset" / n for n in ("notes.jsonl", "holdout.jsonl")]


def main(repeats: int = 20) -> None:
    """Analyse every note ``repeats`` times (after one warm-up pass) and report timings."""
    texts = [
        json.loads(line)["text"]
        for path in DATASETS
        for line in path.read_text("utf-8").splitlines()
        if line
    ]
    for text in texts:
        analyze_note(text)
    samples: list[float] = []
    for _ in range(repeats):
        for text in texts:
            t0 = time.perf_counter()
            analyze_note(text)
            samples.append((time.perf_counter() - t0) * 1000.0)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    chars = statistics.mean(len(t) for t in texts)
    print(f"notes: {len(texts)} x {repeats} runs, mean note length {chars:.0f} chars")
    print(
        f"median {statistics.median(samples):.2f} ms | p95 {p95:.2f} ms | max {samples[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
