#!/usr/bin/env python3
"""Prints RUN/log.jsonl (written by `nmt train`) as a Markdown table: the per-epoch figures of
docs/results.md.

Usage: tools/log_table.py RUN/log.jsonl [TEST.jsonl]

TEST.jsonl adds test columns: one line per epoch, {"epoch": N, "test": <nmt eval's JSON line>},
e.g. from a run trained with --keep-epochs:
  for n in $(seq 10); do echo "{\"epoch\":$n,\"test\":$(nmt eval --model RUN/epochs/$n)}"; done
"""
import json
import sys


def main(path, test_path=None):
    with open(path, encoding="utf-8") as f:
        bleu = any("valid_bleu" in json.loads(line) for line in f)  # runs with --select-by bleu
    test = {}
    if test_path:
        with open(test_path, encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                test[d["epoch"]] = d["test"]
    head = "| epoch | train loss | valid loss | valid ppl | valid ppl_free |"
    if bleu:
        head += " valid BLEU (greedy) |"
    if test:
        head += " test ppl | test ppl_free | test BLEU (greedy) |"
    head += " epoch time | tokens/s | peak memory |"
    print(head)
    print("|" + "---:|" * (head.count("|") - 1))
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            best = " (best)" if d.get("best") else ""
            row = (f"| {d['epoch']}{best} | {d['train_loss']:.3f} | {d['valid_loss']:.3f} | "
                   f"{d['valid_ppl']:.2f} | {d['valid_ppl_free']:.2f} |")
            if bleu:
                row += f" {d['valid_bleu']:.2f} |" if "valid_bleu" in d else " – |"
            if test:
                t = test.get(d["epoch"])
                row += (f" {t['ppl']:.2f} | {t['ppl_free']:.2f} | {t['bleu']:.2f} |" if t else
                        " – | – | – |")
            row += (f" {d['epoch_time_s'] / 60:.1f} min | {d['tokens_per_s']:,.0f} | "
                    f"{d.get('peak_rss_mb', 0):,} MB |")
            print(row)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    main(*sys.argv[1:])
