"""What a preview costs against what it previews: ``poolside run --dry-run`` beside the walk and the run.

Makes ``--files`` small text files in a temporary folder, then times, best of ``--repeats``:

    walk       the inputs walked (poolside.inputs.expand), what any run pays first
    preview    poolside.preview.preview for sha256 (items only) and for gzip (each output's name and
               collision, a tenth of the outputs already there)
    run        the gzip job itself on threads ×2, outputs to a scratch folder

and prints each as a ratio to the walk and to the run, with the load average (the machine is
shared: ratios measured in one run, not absolute times, are what to compare).

    python benchmarks/preview_cost.py [--files 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("POOLSIDE_HISTORY", "off")  # the run is measured, not kept

    from poolside import run
    from poolside.inputs import expand
    from poolside.preview import preview
    from poolside.spec import JobSpec

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in", Path(tmp) / "out"
        src.mkdir()
        out.mkdir()
        for i in range(args.files):
            (src / f"f{i:06d}.txt").write_text("some words\n" * 4)
            if i % 10 == 0:
                (out / f"f{i:06d}.txt.gz").write_bytes(b"")  # collisions for a tenth of the items
        gzip = JobSpec("gzip", paths=(str(src),), recursive=True, patterns=("*",), backend="threads",
                       workers=2, params={"out": str(out)})
        sha = JobSpec("sha256", paths=(str(src),), recursive=True, patterns=("*",))
        walk = best(lambda: sum(1 for _ in expand([src], recursive=True)), args.repeats)
        items_only = best(lambda: preview(sha, history=False), args.repeats)
        outputs = best(lambda: preview(gzip, history=False), args.repeats)
        scratch = Path(tmp) / "scratch"

        def run_gzip() -> None:
            prepared = gzip.replace(params={"out": str(scratch)}).prepare()
            job = run(prepared.task, prepared.items, **prepared.run_options(), finite=True)
            job.wait()

        ran = best(run_gzip, 1)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.files:,} files, best of {args.repeats}; load average {load}")
    print(f"{'':26}{'seconds':>9}{'× walk':>9}{'× run':>9}")
    for name, t in (("walk", walk), ("preview, items only", items_only), ("preview, names+collisions", outputs),
                    ("gzip run, threads ×2", ran)):
        print(f"{name:26}{t:9.3f}{t / walk:9.2f}{t / ran:9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
