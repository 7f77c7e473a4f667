"""Website scanner: wall time of `consentgate scan` on a 50-page local site, against a one-tab baseline.

The site is tests/scan/site.py's shop with a catalogue added to reach the page count: every page
loads the banner, an ungated ad pixel, gated analytics and retargeting tags, a widget from a
CDN host and a session-replay script (the product pages an affiliate script too), each host on its
own loopback address. Each run is the real command line
(`consentgate scan URL --out …` in a subprocess, so browser start-up and writing the report count),
three phases, 3 x 50 page loads plus the two banner clicks. The baseline is the same scan with one
tab at a time (`--concurrency 1`).

    .venv/bin/python benchmarks/scan.py                 # 3 runs + 1 baseline run
    .venv/bin/python benchmarks/scan.py --runs 5 --no-baseline
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so the test site (tests/scan/site.py) is importable

from tests.scan.site import ShopSite, serve  # noqa: E402

BASE_PAGES = 7  # the shop's own crawlable pages


def run_scan(resolve: dict[str, str], pages: int, out: Path, concurrency: int | None) -> tuple[float, dict]:
    cmd = [str(ROOT / ".venv" / "bin" / "consentgate"), "scan", "http://shop.test/", "--out", str(out)]
    cmd += ["--max-pages", str(pages)]
    if concurrency is not None:
        cmd += ["--concurrency", str(concurrency)]
    for host, target in resolve.items():
        cmd += ["--resolve", f"{host}={target}"]
    env = {**os.environ, "CONSENTGATE_POLICY": str(out.parent / "no-policy.yaml"), "COLUMNS": "120"}
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 3):  # 3: violations found, which the shop has on purpose
        sys.exit(f"scan failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed, json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    site = ShopSite(extra_pages=max(0, args.pages - BASE_PAGES))
    with serve(site) as resolve, tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scan.json"
        times = []
        for i in range(args.runs):
            elapsed, doc = run_scan(resolve, args.pages, out, None)
            times.append(elapsed)
            loads = sum(p["pages"] for p in doc["phases"].values())
            print(
                f"run {i + 1}: {elapsed:6.1f} s  ({len(doc['pages'])} pages, {loads} page loads, "
                f"{len(doc['cookies'])} cookies, {len(doc['violations'])} violations)",
                flush=True,
            )
        median = statistics.median(times)
        print(f"consentgate scan, {args.pages} pages, 6 tabs: median {median:.1f} s "
              f"(min {min(times):.1f}, max {max(times):.1f}, {args.runs} runs)")  # fmt: skip
        if not args.no_baseline:
            base, _ = run_scan(resolve, args.pages, out, 1)
            print(f"baseline, one tab at a time: {base:.1f} s  ({base / median:.1f}x slower)")
    load = os.getloadavg()
    print(
        f"load average during the runs: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
