#!/usr/bin/env python3
"""Projects data-parallel training (`mpirun -np N nmt train ...`) for the seed model on paper.

Prints Markdown tables: time per step, target tokens/s, speed-up over one process, parallel
efficiency, and the N where the efficiency falls below 50% ("where it stops scaling"), for
N = 2..64 ranks, several link speeds, with and without overlapping the all-reduce with the
backward, fp32 vs bf16 gradients, and two global batches. Python 3 standard library only;
it reads one file (the training targets) and runs in under a second.

The model (every input is a flag; the defaults are this project's 2-core AVX-512 VM):

  One process at the measured batch b0 = --batch (128): t_ref = tokens(b0) / R1, where
    R1 = --tokens-per-s-1rank (1,583 target tokens/s, one process with 2 threads, measured by
    `nmt bench`, docs/performance.md). Of t_ref, a share f = --optimizer-fraction (4%: Adam 3%
    + gradient norm 1% in the perf profile of docs/performance.md) is the optimizer step,
    opt = f * t_ref, which depends on the parameter count only; the rest, fb = (1 - f) * t_ref,
    is forward + backward and grows with the batch. One process at a global batch B:
        t1(B) = fb * B/b0 + opt      (assumed: as accumulating batches of b0)

  Tokens per step, tokens(b0). Default: computed from data/multi30k/train.en.gz as b0 x the
    mean target tokens per sentence, counting whitespace tokens after lowercasing + 1 for
    <eos>. This is approximate: nmt's tokenizer also splits off punctuation, which gives ~9%
    more tokens (--count punct approximates that with a regular expression). Falls back to
    1820 if the file cannot be read. `--tokens-per-step` overrides it.

  N ranks, global batch B. Each rank has the cores the single process had (one rank per
    2-core host) and runs B/N sentences. Smaller GEMMs run less efficiently, modelled (an
    assumption, not a measurement) as
        compute(N) = fb * B/b0 / N / eff(B/N),   eff(b) = min(1, (b / b0) ** e)
    with e = --efficiency (0.15: a rank with 64 sentences runs at 90%, with 2 at 54%;
    --efficiency 0 means no loss). The optimizer step is not divided: every rank does the
    whole Adam step on the summed gradient (--optimizer-fraction 0 divides everything by N).

  Ring all-reduce of the gradient (P parameters x 4 bytes fp32, x 2 bytes bf16):
        allreduce(N) = 2 (N-1)/N * bytes / (link * --link-efficiency) + 2 (N-1) * latency
    (a reduce-scatter then an all-gather, N-1 steps each; link in Gb/s, 80% of line rate by
    default, --latency-us 20 per step). E.g. 82.07 MB fp32 at 10 Gb/s x 0.8 = 1 GB/s, N = 2:
    82.07 ms + 0.04 ms.

  Step time. No overlap: compute + allreduce + opt. Overlap (a layer's gradient is sent as soon
    as the backward has produced it): min(compute + allreduce,
    max(compute, allreduce) + tail * allreduce) + opt, tail = --overlap-tail (10%: what cannot
    be hidden, e.g. the gradients the backward produces last). The optimizer step needs the
    summed gradient, so it never overlaps.

  Speed-up = t1(B) / step(N), against one process at the same global batch; efficiency =
  speed-up / N; tokens/s = tokens(B) / step(N). "first N < 50%" is the first N of the grid
  whose efficiency is below 50%; "crossover N" the smallest whole N at which it is (per-rank
  batches may then be uneven), searched up to N = B.

  The "one lever at a time" table also projects a sharded optimizer step (reduce-scatter, each
  rank updates 1/N of the parameters, all-gather: the same bytes as the all-reduce, opt / N,
  plus one all-reduce of a float for the clipping norm) and 8-bit gradients (1 byte each).

Not modelled: data loading, validation and checkpoint writes (rank 0), stragglers, other
traffic on the links, and what a larger global batch does to convergence (docs/distributed.md).

Usage: tools/allreduce_projection.py [--bandwidths 10,25,100] [--ranks 2,4,...] [...]
"""
import argparse
import gzip
import math
import os
import re
import sys

FALLBACK_TOKENS_PER_STEP = 1820.0


def tokens_per_step_from_data(path, batch, count):
    """(mean target tokens per batch of `batch`, sentences) from a .gz target file, or None."""
    word = re.compile(r"\w+(?:[-']\w+)*|[^\w\s]")
    sentences = tokens = 0
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                line = line.lower()
                n = len(word.findall(line)) if count == "punct" else len(line.split())
                sentences += 1
                tokens += n + 1  # + <eos>
    except OSError:
        return None
    if sentences == 0:
        return None
    return batch * tokens / sentences, sentences


def rank_efficiency(per_rank_batch, ref_batch, exponent):
    return min(1.0, (per_rank_batch / ref_batch) ** exponent)


def allreduce_s(n, nbytes, link_gbps, link_eff, latency_s):
    if n <= 1:
        return 0.0
    bytes_per_s = link_gbps * 1e9 / 8 * link_eff
    return 2 * (n - 1) / n * nbytes / bytes_per_s + 2 * (n - 1) * latency_s


class Model:
    def __init__(self, a, tokens_per_ref_batch):
        self.a = a
        self.tokens_ref = tokens_per_ref_batch
        t_ref = tokens_per_ref_batch / a.tokens_per_s_1rank  # one step of one process at --batch
        self.opt = a.optimizer_fraction * t_ref  # clip + Adam: per step, every rank, any batch
        self.fb_ref = t_ref - self.opt  # forward + backward at --batch

    def tokens(self, global_batch):
        return self.tokens_ref * global_batch / self.a.batch

    def t1(self, global_batch):
        """One step of one process at this batch."""
        return self.fb_ref * global_batch / self.a.batch + self.opt

    def compute(self, n, global_batch):
        """Forward + backward of one rank's B/N sentences (without the optimizer step)."""
        b = global_batch / n
        fb = self.fb_ref * global_batch / self.a.batch
        return fb / n / rank_efficiency(b, self.a.batch, self.a.efficiency)

    def allreduce(self, n, grad_bytes, gbps):
        a = self.a
        if grad_bytes == 0:  # the "communication is free" ceiling
            return 0.0
        return allreduce_s(n, a.params * grad_bytes, gbps, a.link_efficiency, a.latency_us * 1e-6)

    def step(self, n, global_batch, grad_bytes, gbps, overlap, shard_optimizer=False):
        """shard_optimizer: reduce-scatter, each rank updates 1/N of the parameters, all-gather
        (the same bytes as an all-reduce); clipping then needs one more all-reduce, of the squared
        norm (one float: ceil(log2 N) latencies, recursive doubling)."""
        c = self.compute(n, global_batch)
        r = self.allreduce(n, grad_bytes, gbps)
        serial = c + r
        if overlap:  # never worse than not overlapping
            serial = min(serial, max(c, r) + self.a.overlap_tail * r)
        if shard_optimizer and n > 1:
            norm = math.ceil(math.log2(n)) * self.a.latency_us * 1e-6 if grad_bytes else 0.0
            return serial + self.opt / n + norm
        return serial + self.opt

    def efficiency(self, n, *cfg):
        return self.t1(cfg[0]) / self.step(n, *cfg) / n

    def first_grid_below(self, ranks, *cfg):
        for n in ranks:
            if self.efficiency(n, *cfg) < 0.5:
                return n
        return None

    def crossover(self, *cfg):
        global_batch = cfg[0]
        for n in range(2, int(global_batch) + 1):
            if self.efficiency(n, *cfg) < 0.5:
                return n
        return None


def fmt_int(x):
    return f"{x:,.0f}"


def grad_name(nbytes):
    return {4: "fp32", 2: "bf16", 1: "8-bit"}.get(nbytes, f"{nbytes} B")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--params", type=int, default=20518405,
                   help="parameters (= gradient elements); seed model 20,518,405")
    p.add_argument("--tokens-per-s-1rank", type=float, default=1583.0,
                   help="target tokens/s of one process at --batch (measured: 1583, 2 threads)")
    p.add_argument("--tokens-per-step", type=float, default=None,
                   help="mean target tokens per batch of --batch (default: computed from --data)")
    p.add_argument("--data", default=None,
                   help="target side of the training set (default: data/multi30k/train.en.gz "
                        "next to this script's repository)")
    p.add_argument("--count", choices=["whitespace", "punct"], default="whitespace",
                   help="how --data is counted: whitespace tokens (default) or punctuation "
                        "split off too (closer to nmt's tokenizer); + 1 <eos> either way")
    p.add_argument("--batch", type=int, default=128,
                   help="batch of the measurement (and reference of the efficiency model)")
    p.add_argument("--global-batches", default="128,1024", help="global batches to project")
    p.add_argument("--efficiency", type=float, default=0.15,
                   help="exponent e of eff(b) = min(1, (b/--batch)^e); 0 = no loss")
    p.add_argument("--ranks", default="2,4,8,16,32,64", help="numbers of ranks")
    p.add_argument("--bandwidths", default="10,25,100", help="link line rates, Gb/s")
    p.add_argument("--link-efficiency", type=float, default=0.8,
                   help="achievable fraction of the line rate")
    p.add_argument("--latency-us", type=float, default=20.0, help="latency per ring step, µs")
    p.add_argument("--grad-bytes", default="4,2",
                   help="bytes per gradient element to project (4 fp32, 2 bf16, 1 8-bit)")
    p.add_argument("--optimizer-fraction", type=float, default=0.04,
                   help="share of one process's step at --batch spent after the all-reduce on "
                        "every rank whatever N (clip + Adam: 4%% in perf, docs/performance.md); "
                        "0 = everything divided by N")
    p.add_argument("--overlap-tail", type=float, default=0.1,
                   help="fraction of the all-reduce that overlap cannot hide")
    p.add_argument("--summary-only", action="store_true", help="omit the per-N detail tables")
    p.add_argument("--heading-level", type=int, default=1,
                   help="Markdown level of the title (sections one deeper), for pasting")
    a = p.parse_args()

    ranks = [int(x) for x in a.ranks.split(",")]
    batches = [int(x) for x in a.global_batches.split(",")]
    links = [float(x) for x in a.bandwidths.split(",")]
    gbytes = [int(x) for x in a.grad_bytes.split(",")]

    if a.tokens_per_step is not None:
        tok = a.tokens_per_step
        tok_src = "given (--tokens-per-step)"
    else:
        path = a.data or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                      "data", "multi30k", "train.en.gz")
        got = tokens_per_step_from_data(path, a.batch, a.count)
        if got is None:
            tok = FALLBACK_TOKENS_PER_STEP
            tok_src = f"fallback ({path} not readable)"
        else:
            tok, sentences = got
            how = ("whitespace tokens after lowercasing" if a.count == "whitespace"
                   else "words and punctuation after lowercasing")
            shown = a.data or "data/multi30k/train.en.gz"
            tok_src = (f"computed from {shown} ({sentences:,} sentences, "
                       f"{how} + 1 <eos>; approximate)")
    m = Model(a, tok)
    lat = a.latency_us

    def mb(nbytes):
        return a.params * nbytes / 1e6

    out = []
    w = out.append
    h1, h2, h3 = ("#" * (a.heading_level + i) for i in range(3))
    w(f"{h1} Data-parallel projection (seed model)")
    w("")
    w("Inputs. Measured: the tokens/s of one process. Assumed: what is marked so. "
      "Computed from these: the rest.")
    w("")
    w(f"- gradient: {a.params:,} parameters = "
      + ", ".join(f"{mb(b):.2f} MB {grad_name(b)}" for b in gbytes))
    measured = (" (measured: `nmt bench`, 2 threads, docs/performance.md)"
                if a.tokens_per_s_1rank == 1583.0 and a.batch == 128 else "")
    w(f"- one process at batch {a.batch}: {a.tokens_per_s_1rank:,.0f} target tokens/s{measured}")
    w(f"- target tokens per batch of {a.batch}: {tok:,.0f}: {tok_src}")
    w(f"- one step of one process at batch {a.batch}: {m.t1(a.batch) * 1e3:,.0f} ms (computed), "
      f"of which clip + Adam {m.opt * 1e3:,.0f} ms ({a.optimizer_fraction:.0%}, perf profile), "
      "done by every rank after the all-reduce whatever N")
    w("- one process at a larger batch: forward + backward grow with the batch, the optimizer "
      "step does not (assumed; as accumulating batches of "
      f"{a.batch}): " + "; ".join(f"batch {B}: {m.t1(B) * 1e3:,.0f} ms a step, "
                                  f"{m.tokens(B) / m.t1(B):,.0f} tokens/s" for B in batches))
    w(f"- per-rank forward + backward: fb(B) / N / eff(B/N), eff(b) = min(1, (b/{a.batch})"
      f"^{a.efficiency:g}) (assumed: small GEMMs run less efficiently)")
    w("- links: " + ", ".join(f"{g:g} Gb/s" for g in links)
      + f", {a.link_efficiency:.0%} of line rate achievable, {lat:g} µs per ring step (assumed); "
      "ring all-reduce 2(N-1)/N x bytes / rate + 2(N-1) x latency")
    w(f"- step, no overlap: fwd+bwd + all-reduce + optimizer; overlap: max(fwd+bwd, all-reduce) "
      f"+ {a.overlap_tail:.0%} of all-reduce + optimizer, never more than without overlap "
      "(assumed)")
    w("- speed-up and efficiency are against one process at the same global batch")
    w("")

    w(f"{h2} All-reduce time per step (ms)")
    w("")
    hdr = ["N"] + [f"{grad_name(b)} {g:g} Gb/s" for b in gbytes for g in links]
    w("| " + " | ".join(hdr) + " |")
    w("|" + "---:|" * len(hdr))
    for n in ranks:
        w(f"| {n} | " + " | ".join(f"{m.allreduce(n, b, g) * 1e3:,.1f}"
                                   for b in gbytes for g in links) + " |")
    w("")

    w(f"{h2} Forward + backward per rank and step (ms; the optimizer step comes on top)")
    w("")
    hdr = ["N"]
    for B in batches:
        hdr += [f"B={B}: sentences/rank", "eff", "fwd+bwd ms"]
    w("| " + " | ".join(hdr) + " |")
    w("|" + "---:|" * len(hdr))
    for n in [1] + ranks:
        row = [str(n)]
        for B in batches:
            b = B / n
            row += [f"{b:g}", f"{rank_efficiency(b, a.batch, a.efficiency):.2f}",
                    f"{m.compute(n, B) * 1e3:,.0f}"]
        w("| " + " | ".join(row) + " |")
    w("")

    w(f"{h2} Where it stops scaling")
    w("")
    nmid = 8 if 8 in ranks else ranks[len(ranks) // 2]
    w(f"Speed-up over one process at N = {nmid}, the best tokens/s of the grid, and the N "
      "where the parallel efficiency falls below 50% (first N of the grid; smallest whole N).")
    w("")
    w(f"| global batch | gradient | link | overlap | speed-up at N={nmid} | best tokens/s (N) "
      "| first N < 50% | crossover N |")
    w("|---:|---|---:|---|---:|---:|---:|---:|")
    for B in batches:
        for b in gbytes:
            for g in links:
                for ov in (False, True):
                    cfg = (B, b, g, ov)
                    s_mid = m.t1(B) / m.step(nmid, *cfg)
                    best = max(ranks, key=lambda n: m.tokens(B) / m.step(n, *cfg))
                    best_tps = m.tokens(B) / m.step(best, *cfg)
                    first = m.first_grid_below(ranks, *cfg)
                    cross = m.crossover(*cfg)
                    w(f"| {B} | {grad_name(b)} | {g:g} Gb/s | {'yes' if ov else 'no'} "
                      f"| {s_mid:.2f}x | {fmt_int(best_tps)} ({best}) "
                      f"| {first if first else f'> {ranks[-1]}'} "
                      f"| {cross if cross else f'> {B}'} |")
    w("")

    w(f"{h2} One lever at a time (crossover N: smallest N with efficiency < 50%)")
    w("")
    small, big = batches[0], batches[-1]
    levers = [
        (f"fp32, batch {small}, no overlap (baseline)", (small, 4, False, False)),
        ("bf16 gradients", (small, 2, False, False)),
        ("overlap", (small, 4, True, False)),
        ("sharded optimizer step", (small, 4, False, True)),
        (f"global batch {big}", (big, 4, False, False)),
        ("bf16 + overlap", (small, 2, True, False)),
        ("bf16 + overlap + sharded optimizer", (small, 2, True, True)),
        ("8-bit compressed gradients + overlap + sharded optimizer", (small, 1, True, True)),
        (f"bf16 + overlap + batch {big}", (big, 2, True, False)),
        (f"bf16 + overlap + sharded optimizer + batch {big}", (big, 2, True, True)),
        (f"batch {small}, communication free (ceiling)", (small, 0, False, False)),
        (f"batch {small}, communication free, sharded optimizer (ceiling)",
         (small, 0, False, True)),
    ]
    w("| configuration | " + " | ".join(f"{g:g} Gb/s" for g in links) + " |")
    w("|---|" + "---:|" * len(links))
    for name, (B, b, ov, sh) in levers:
        cells = []
        for g in links:
            c = m.crossover(B, b, g, ov, sh)
            cells.append(str(c) if c else f"> {B}")
        w(f"| {name} | " + " | ".join(cells) + " |")
    w("")

    if not a.summary_only:
        for B in batches:
            for b in gbytes:
                for g in links:
                    w(f"{h3} Global batch {B}, {grad_name(b)} gradients, {g:g} Gb/s")
                    w("")
                    w("| N | fwd+bwd ms | all-reduce ms | step ms | tokens/s | speed-up | eff "
                      "| overlap: step ms | tokens/s | speed-up | eff |")
                    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
                    t1 = m.t1(B)
                    w(f"| 1 | {m.compute(1, B) * 1e3:,.0f} | 0 | {t1 * 1e3:,.0f} "
                      f"| {fmt_int(m.tokens(B) / t1)} | 1.00x | 100% | | | | |")
                    for n in ranks:
                        c = m.compute(n, B)
                        r = m.allreduce(n, b, g)
                        cells = [str(n), f"{c * 1e3:,.0f}", f"{r * 1e3:,.1f}"]
                        for ov in (False, True):
                            s = m.step(n, B, b, g, ov)
                            sp = t1 / s
                            cells += [f"{s * 1e3:,.0f}", fmt_int(m.tokens(B) / s),
                                      f"{sp:.2f}x", f"{sp / n:.0%}"]
                        w("| " + " | ".join(cells) + " |")
                    w("")

    sys.stdout.write("\n".join(out).rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
