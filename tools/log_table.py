#!/usr/bin/env python3
"""Prints RUN/log.jsonl (written by `nmt train`) as a Markdown table: the per-epoch figures of
docs/results.md. Usage: tools/log_table.py runs/seed/log.jsonl"""
import json
import sys


def main(path):
    print("| epoch | train loss | valid loss | valid ppl | valid ppl_free | epoch time | tokens/s "
          "| peak memory |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            best = " (best)" if d.get("best") else ""
            print(f"| {d['epoch']}{best} | {d['train_loss']:.3f} | {d['valid_loss']:.3f} | "
                  f"{d['valid_ppl']:.2f} | {d['valid_ppl_free']:.2f} | "
                  f"{d['epoch_time_s'] / 60:.1f} min | {d['tokens_per_s']:.0f} | "
                  f"{d.get('peak_rss_mb', 0):,} MB |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
