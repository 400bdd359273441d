"""Aggregation benchmark: our vectorized Dawid-Skene against crowd-kit's DawidSkene and
MajorityVote, on the same synthetic crowd's labels, in the same process.

Default: 1,000,000 categorical labels (200,000 tasks x 5 answers, 4 classes, 2,000 workers:
experts, average workers, uniform spammers and biased workers). ``--quick`` runs 20,000 tasks.
Prints accuracy and wall time of each method and the peak resident memory; the last line is JSON.
"""

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene, MajorityVote

from quorum.quality.aggregation import dawid_skene
from quorum.quality.synthetic import make_crowd, simulate_labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 tasks instead of 200,000")
    parser.add_argument("--tasks", type=int)
    parser.add_argument("--per-task", type=int, default=5)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    n_tasks = args.tasks or (20_000 if args.quick else 200_000)
    rng = np.random.default_rng(args.seed)
    crowd = make_crowd(max(50, n_tasks // 100), args.classes, rng)
    labels, truth = simulate_labels(n_tasks, args.per_task, crowd, rng)
    frame = pd.DataFrame({"task": labels.tasks, "worker": labels.workers, "label": labels.labels})
    print(
        f"{len(frame):,} labels: {n_tasks:,} tasks x {args.per_task}, {labels.n_workers:,} workers"
    )

    started = time.perf_counter()
    fit = dawid_skene(labels)
    ours_s = time.perf_counter() - started
    ours_accuracy = float((fit.posteriors.argmax(axis=1) == truth).mean())
    print(
        f"ours (numpy Dawid-Skene): {ours_accuracy:.4f} in {ours_s:.2f} s, {fit.iterations} rounds"
    )

    started = time.perf_counter()
    reference = DawidSkene(n_iter=100, tol=1e-5).fit_predict(frame).sort_index().to_numpy()
    crowdkit_s = time.perf_counter() - started
    crowdkit_accuracy = float((reference == truth).mean())
    print(f"crowd-kit DawidSkene:     {crowdkit_accuracy:.4f} in {crowdkit_s:.2f} s")

    started = time.perf_counter()
    majority = MajorityVote().fit_predict(frame).sort_index().to_numpy()
    majority_s = time.perf_counter() - started
    mv_accuracy = float((majority == truth).mean())
    print(f"crowd-kit MajorityVote:   {mv_accuracy:.4f} in {majority_s:.2f} s")

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"accuracy gap to crowd-kit: {100 * (ours_accuracy - crowdkit_accuracy):+.2f} points; "
        f"time ratio {ours_s / crowdkit_s:.2f}; peak RSS {peak_rss_mb:.0f} MB"
    )
    print(
        json.dumps(
            {
                "labels": len(frame),
                "ours_accuracy": round(ours_accuracy, 4),
                "ours_s": round(ours_s, 3),
                "crowdkit_ds_accuracy": round(crowdkit_accuracy, 4),
                "crowdkit_ds_s": round(crowdkit_s, 3),
                "mv_accuracy": round(mv_accuracy, 4),
                "peak_rss_mb": round(peak_rss_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
