#!/usr/bin/python3
"""Writes a large parallel corpus by repeating and shuffling a small one (for memory and speed
measurements of `nmt train` on 1M pairs; the text is Multi30k's, so it teaches nothing new).

  tools/repeat_corpus.py --pairs 1000000 --out /tmp/big   # from data/multi30k train.de/.en
writes OUT/train.de.gz, OUT/train.en.gz (the pairs, shuffled with --seed) and OUT/val.* (a copy
of the validation split).
"""
import argparse
import gzip
import os
import random
import shutil


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/multi30k")
    ap.add_argument("--pairs", type=int, default=1000000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    read = lambda p: gzip.open(p, "rt", encoding="utf-8").read().splitlines()
    src = read(os.path.join(a.data, "train.de.gz"))
    trg = read(os.path.join(a.data, "train.en.gz"))
    idx = [i % len(src) for i in range(a.pairs)]
    random.Random(a.seed).shuffle(idx)
    os.makedirs(a.out, exist_ok=True)
    for lang, lines in (("de", src), ("en", trg)):
        with gzip.open(os.path.join(a.out, f"train.{lang}.gz"), "wt", encoding="utf-8",
                       compresslevel=1) as f:
            f.writelines(lines[i] + "\n" for i in idx)
        shutil.copy(os.path.join(a.data, f"val.{lang}.gz"), a.out)


if __name__ == "__main__":
    main()
