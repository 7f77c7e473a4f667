"""What decoding ``signals.tc_string`` costs intake (issue 17 item 1), against intake of the same
submissions without a TC string, in the same run and the same process, interleaved round by round:

- **baseline**: banner submissions (one event per purpose) under a TCF policy, no TC string;
- **tc_string**: the same submissions, each carrying a TC string the service wrote for it (a different
  string per submission, so the per-string decoding cache never helps: the worst case);
- **issuer**: one ``ConsentService.tcf_issuer()`` call (which GVLs the service served), which every
  ``record`` makes while TCF is on, with a 1 MB GVL stored in the directory;
- **disclosure**: the check that a string consents only to what the layers disclosed under the list it
  names (``intake.disclosure_problems``), alone, per string: part of **tc_string** above.

Run: .venv/bin/python benchmarks/tcf_intake.py [--rounds 5] [--subjects 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, submission_events, synthetic_submissions

sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--subjects", type=int, default=2_000)
    args = parser.parse_args()

    from tests.tcf.conftest import TCF, write_policy

    from consentgate.ledger import intake
    from consentgate.ledger.intake import _decoded, validate_batch
    from consentgate.ledger.store import Ledger
    from consentgate.policy import load_policy
    from consentgate.service import ConsentService
    from consentgate.web.tcf.gvl import SNAPSHOT_NAME, served_lists, shipped_gvl, store_gvl
    from consentgate.web.tcf.signals import TcfChoices, tc_string

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        policy = load_policy(
            write_policy(ROOT / "src" / "consentgate" / "policy" / "example.yaml", folder / "p.yaml", TCF)
        )
        gvl = shipped_gvl()
        base = datetime(2024, 1, 1, tzinfo=UTC)
        plain, signed = [], []
        for n, sub in enumerate(synthetic_submissions(args.subjects, 2)):
            events = submission_events(sub)
            grants = any(raw["action"] == "grant" for _, raw in events)
            day = base + timedelta(days=n % 4000)  # Created differs, so every string differs
            choices = TcfChoices(purpose_consents=frozenset({1, 2}) if grants else frozenset())
            text = tc_string(choices, policy.web.tcf, gvl, language="en", created=day, updated=day)
            plain.extend(events)
            signed.extend((w, {**raw, "signals": {"tc_string": text}}) for w, raw in events)
        now = datetime.now(UTC)
        ledger = Ledger.open(str(folder / "ledger.db"))
        service = ConsentService(policy, ledger, gvl_directory=folder / "gvl")
        # a GVL of IAB's size: the shipped one padded to about a megabyte
        big = json.loads(gvl.model_dump_json()) | {"vendorListVersion": gvl.vendorListVersion + 1}
        big["padding"] = "x" * 1_000_000
        store_gvl(json.dumps(big, default=str), "benchmark", folder / "gvl")
        issuer = service.tcf_issuer()

        def run(raws: list[tuple[str, dict[str, object]]]) -> float:
            _decoded.cache_clear()
            t = time.perf_counter()
            validate_batch(
                policy, raws, now=now, default_source="api", require_notice_for_grant=True, tcf=issuer
            )
            return len(raws) / (time.perf_counter() - t)

        run(plain), run(signed)  # warm-up
        rates: dict[str, list[float]] = {"baseline": [], "tc_string": []}
        issuer_us: list[float] = []
        disclosure_us: list[float] = []
        checker = getattr(intake, "disclosure_problems", None)  # absent before the check existed
        models = [_decoded(str(raw["signals"]["tc_string"])) for _, raw in signed[:1000]]  # type: ignore[index]
        for _ in range(args.rounds):
            rates["baseline"].append(run(plain))
            rates["tc_string"].append(run(signed))
            t = time.perf_counter()
            for _ in range(1000):
                service.tcf_issuer()
            issuer_us.append((time.perf_counter() - t) * 1000)
            if checker is not None:
                t = time.perf_counter()
                for model in models:
                    checker(model, issuer, "accept_all")
                disclosure_us.append((time.perf_counter() - t) * 1e6 / len(models))
        assert served_lists(folder / "gvl") == {150: 5, 151: 5}, SNAPSHOT_NAME
        ledger.close()
    baseline, with_tc = statistics.median(rates["baseline"]), statistics.median(rates["tc_string"])
    print(f"events per round: {len(plain)}; rounds: {args.rounds}")
    print(f"intake without tc_string: {baseline:,.0f} events/s")
    ratio = with_tc / baseline
    print(f"intake with a distinct tc_string per submission: {with_tc:,.0f} events/s ({ratio:.2f}x)")
    print(f"tcf_issuer() with a 1 MB GVL stored: {statistics.median(issuer_us):.1f} us per call")
    if disclosure_us:
        print(f"disclosure check alone: {statistics.median(disclosure_us):.1f} us per string")


if __name__ == "__main__":
    main()
