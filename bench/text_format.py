#!/usr/bin/env python3
"""`nmt translate --format text` on paragraphs against the same sentences one per line.

The test2016 lines that end as sentences do (final . ! ?; about a fifth of Multi30k's lines do
not and could not be told apart from the next sentence once joined) are joined into paragraphs
of 2-6 sentences (seeded), separated by blank lines; inside a paragraph sentences are joined by
a space, or by a line break every third join (a sentence may span lines in --format text).
Reports: the segmenter's precision and recall on those paragraphs (`nmt segment`), how many
sentences translate exactly as they do alone (paragraphs rebuilt from the per-sentence
translations with the same gaps), BLEU of both, and the throughput of both formats (same run).
Usage: bench/text_format.py MODEL [NMT=build/nmt] [--beam B]
"""
import argparse, gzip, json, os, random, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("nmt", nargs="?", default="build/nmt")
ap.add_argument("--beam", default="1")
a = ap.parse_args()
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
src = gzip.open(f"{root}/data/multi30k/test_2016_flickr.de.gz", "rt").read().splitlines()
ref = gzip.open(f"{root}/data/multi30k/test_2016_flickr.en.gz", "rt").read().splitlines()
keep = [i for i, s in enumerate(src) if s.rstrip().endswith((".", "!", "?"))]
print(f"{len(keep)} of {len(src)} test2016 lines end with . ! or ?")
rng = random.Random(1234)
paras, at = [], 0
while at < len(keep):
    n = rng.randint(2, 6)
    paras.append(keep[at:at + n])
    at += n
joins = {}  # (paragraph, k) -> the gap before sentence k
text = []
for p, ids in enumerate(paras):
    out = src[ids[0]].strip()
    for k in range(1, len(ids)):
        gap = "\n" if k % 3 == 0 else " "
        joins[(p, k)] = gap
        out += gap + src[ids[k]].strip()
    text.append(out)
print(f"{len(paras)} paragraphs of 2-6 sentences")
tmp = tempfile.mkdtemp()
open(f"{tmp}/paras.de", "w").write("\n\n".join(text) + "\n")
open(f"{tmp}/lines.de", "w").write("".join(src[i].strip() + "\n" for i in keep))

def run(args, stdin):
    t = time.perf_counter()
    r = subprocess.run([a.nmt] + args, stdin=open(stdin), capture_output=True, text=True, check=True)
    return r.stdout, time.perf_counter() - t

base = ["translate", "--model", a.model, "--beam", a.beam]
load = run(base, "/dev/null")[1]
lines_out, t_lines = run(base, f"{tmp}/lines.de")
text_out, t_text = run(base + ["--format", "text"], f"{tmp}/paras.de")
seg_out, _ = run(["segment", "--lang", "de"], f"{tmp}/paras.de")

# Segmenter: precision/recall of sentence boundaries against the known sentences.
gold = [src[i].strip() for i in keep]
got = seg_out.splitlines()
gold_set, got_set = {}, {}
for s in gold: gold_set[s] = gold_set.get(s, 0) + 1
for s in got: got_set[s] = got_set.get(s, 0) + 1
tp = sum(min(c, got_set.get(s, 0)) for s, c in gold_set.items())
print(f"segmenter: {len(got)} sentences found, {len(gold)} true; precision {tp / len(got):.4f}, "
      f"recall {tp / len(gold):.4f}")
for s in got:
    if s not in gold_set: print("  not a true sentence:", s)

# Exactness: each paragraph's translation against the per-sentence ones joined with its gaps.
alone = lines_out.splitlines()
by_id = dict(zip(keep, alone))
paras_out = text_out.rstrip("\n").split("\n\n")
same = 0
for p, ids in enumerate(paras):
    want = by_id[ids[0]]
    for k in range(1, len(ids)): want += joins[(p, k)] + by_id[ids[k]]
    got_p = paras_out[p] if p < len(paras_out) else ""
    if got_p == want:
        same += len(ids)
    else:
        # Count the sentences of this paragraph whose translation appears as such.
        hits = sum(1 for i in ids if by_id[i] in got_p)
        same += hits
        print(f"  paragraph {p} differs ({hits}/{len(ids)} sentences found in it):\n    got  {got_p}\n    want {want}")
print(f"sentences translated as alone: {same} of {len(keep)} ({100 * same / len(keep):.2f}%)")
bleu = lambda hyp: json.loads(subprocess.run([a.nmt, "bleu", hyp, f"{tmp}/ref.en"], capture_output=True, text=True, check=True).stdout)["bleu"]
open(f"{tmp}/ref.en", "w").write("".join(ref[i] + "\n" for i in keep))
open(f"{tmp}/lines.en", "w").write(lines_out)
print(f"BLEU (these {len(keep)} sentences): lines {bleu(f'{tmp}/lines.en')}")
n = len(keep)
print(f"throughput (model loading {load:.2f}s subtracted): lines {n / (t_lines - load):.1f} "
      f"sentences/s, text {n / (t_text - load):.1f} sentences/s "
      f"(text/lines {(t_lines - load) / (t_text - load):.3f})")
