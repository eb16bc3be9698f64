#!/usr/bin/python3
"""PyTorch reference for nmt: golden test tensors and a speed baseline.

The model is the public PyTorch seq2seq tutorial's attention model
(bentrevett/pytorch-seq2seq, notebook 4: packed padded sequences + masking),
so that ``state_dict()`` names, shapes and concatenation orders are exactly
those of docs/design.md sections 2 and 3.

Subcommands:
  golden --out tests/golden
      Writes small float64-computed (stored F32) golden files for the C++
      tests (every size distinct: emb 6, enc_hid 10, dec_hid 14): teacher
      forced, mixed coins, dropout with explicit masks, a checkpoint, and the
      tutorial's evaluate() over uneven sorted batches; then runs self-checks
      (finite differences, pad invariance, batch-of-one equivalence) and
      prints their numbers.
  bench --data data/multi30k --threads 2 --steps 20 --warmup 3
      Times training steps and greedy translation of the full seed model on
      real Multi30k batches; prints JSON lines. Like nmt, it first makes
      sure OpenBLAS runs its fastest kernels for this CPU: where Debian's
      OpenBLAS does not recognise the CPU and falls back to generic SSE3
      kernels, the script re-executes itself with OPENBLAS_CORETYPE set
      (SkylakeX on AVX-512, Haswell on AVX2), exactly as nmt does
      (src/tensor/ops.cpp, ensure_fast_blas). `--coretype NAME` forces a
      kernel instead; the JSON lines name the kernel used ("blas_core").

Only needs PyTorch (tested with Debian's 1.13) and the standard library;
safetensors files are read and written by hand.
"""

import argparse
import gzip
import json
import math
import os
import random
import re
import resource
import struct
import sys
import time
from collections import Counter


def _openblas():
    import ctypes
    for name in ("libopenblas.so.0", "libblas.so.3"):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib
        except (OSError, AttributeError):
            continue
    return None


def blas_core_name():
    lib = _openblas()
    return lib.openblas_get_corename().decode() if lib else "unknown"


def ensure_fast_blas():
    """The kernel selection nmt applies (ops::ensure_fast_blas), before torch
    loads OpenBLAS: a generic fallback core is replaced by the best one the
    CPU supports, by re-executing with OPENBLAS_CORETYPE set."""
    if os.environ.get("OPENBLAS_CORETYPE"):
        return
    if blas_core_name().lower() not in ("prescott", "core2", "nehalem"):
        return
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        flags = set(next((l for l in f if l.startswith("flags")), "").split())
    want = ("SkylakeX" if {"avx512f", "avx512bw"} <= flags else
            "Haswell" if {"avx2", "fma"} <= flags else None)
    if want:
        os.environ["OPENBLAS_CORETYPE"] = want
        os.execv(sys.executable, [sys.executable] + sys.argv)


if __name__ == "__main__" and "bench" in sys.argv[1:2]:
    if "--coretype" in sys.argv:  # a forced kernel, e.g. to show what a generic one costs
        os.environ["OPENBLAS_CORETYPE"] = sys.argv[sys.argv.index("--coretype") + 1]
    ensure_fast_blas()

import torch  # noqa: E402  (after the kernel selection above)
import torch.nn as nn
import torch.nn.functional as F

UNK_IDX, PAD_IDX, SOS_IDX, EOS_IDX = 0, 1, 2, 3
SPECIALS = ["<unk>", "<pad>", "<sos>", "<eos>"]


# --------------------------------------------------------------------------
# Model (bentrevett pytorch-seq2seq notebook 4)
# --------------------------------------------------------------------------

class Encoder(nn.Module):
    def __init__(self, input_dim, emb_dim, enc_hid_dim, dec_hid_dim, dropout):
        super().__init__()
        self.embedding = nn.Embedding(input_dim, emb_dim)
        self.rnn = nn.GRU(emb_dim, enc_hid_dim, bidirectional=True)
        self.fc = nn.Linear(enc_hid_dim * 2, dec_hid_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, src, src_len, drop=None):
        # src [S,B], src_len [B]; drop: an explicit dropout mask [S,B,E]
        # (0 or 1/(1-p)) used instead of nn.Dropout, so that a test can feed
        # the same mask to both implementations.
        embedded = self.embedding(src)
        embedded = embedded * drop if drop is not None \
            else self.dropout(embedded)  # [S,B,E]
        packed = nn.utils.rnn.pack_padded_sequence(
            embedded, src_len.to("cpu").long(), enforce_sorted=False)
        packed_outputs, hidden = self.rnn(packed)
        # Pad positions come back as exact zeros.
        outputs, _ = nn.utils.rnn.pad_packed_sequence(
            packed_outputs, total_length=src.shape[0])  # [S,B,2H]
        # hidden [2,B,H]: hidden[-2] = forward last, hidden[-1] = backward
        # after reading the whole sentence (i.e. at position 0).
        s0 = torch.tanh(self.fc(torch.cat((hidden[-2], hidden[-1]), dim=1)))
        return outputs, s0  # [S,B,2H], [B,D]


class Attention(nn.Module):
    def __init__(self, enc_hid_dim, dec_hid_dim):
        super().__init__()
        self.attn = nn.Linear(enc_hid_dim * 2 + dec_hid_dim, dec_hid_dim)
        self.v = nn.Linear(dec_hid_dim, 1, bias=False)

    def forward(self, hidden, encoder_outputs, mask):
        # hidden [B,D], encoder_outputs [S,B,2H], mask [B,S] (1 = real token)
        src_len = encoder_outputs.shape[0]
        hidden = hidden.unsqueeze(1).repeat(1, src_len, 1)  # [B,S,D]
        encoder_outputs = encoder_outputs.permute(1, 0, 2)  # [B,S,2H]
        energy = torch.tanh(
            self.attn(torch.cat((hidden, encoder_outputs), dim=2)))  # [B,S,D]
        attention = self.v(energy).squeeze(2)  # [B,S]
        attention = attention.masked_fill(mask == 0, -1e10)
        return F.softmax(attention, dim=1)


class Decoder(nn.Module):
    def __init__(self, output_dim, emb_dim, enc_hid_dim, dec_hid_dim, dropout,
                 attention):
        super().__init__()
        self.output_dim = output_dim
        self.attention = attention
        self.embedding = nn.Embedding(output_dim, emb_dim)
        self.rnn = nn.GRU(enc_hid_dim * 2 + emb_dim, dec_hid_dim)
        self.fc_out = nn.Linear(enc_hid_dim * 2 + dec_hid_dim + emb_dim,
                                output_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, input, hidden, encoder_outputs, mask, drop=None):
        # input [B], hidden [B,D], encoder_outputs [S,B,2H], mask [B,S];
        # drop: an explicit dropout mask [B,E] for this step's embedding
        input = input.unsqueeze(0)  # [1,B]
        embedded = self.embedding(input)  # [1,B,E]
        embedded = embedded * drop.unsqueeze(0) if drop is not None \
            else self.dropout(embedded)
        a = self.attention(hidden, encoder_outputs, mask)  # [B,S]
        a = a.unsqueeze(1)  # [B,1,S]
        enc = encoder_outputs.permute(1, 0, 2)  # [B,S,2H]
        weighted = torch.bmm(a, enc).permute(1, 0, 2)  # [1,B,2H]
        rnn_input = torch.cat((embedded, weighted), dim=2)  # [1,B,E+2H]
        output, hidden = self.rnn(rnn_input, hidden.unsqueeze(0))
        embedded = embedded.squeeze(0)
        output = output.squeeze(0)
        weighted = weighted.squeeze(0)
        prediction = self.fc_out(
            torch.cat((output, weighted, embedded), dim=1))  # [B,Vt]
        return prediction, hidden.squeeze(0), a.squeeze(1)


class Seq2Seq(nn.Module):
    def __init__(self, encoder, decoder, src_pad_idx=PAD_IDX):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.src_pad_idx = src_pad_idx

    def create_mask(self, src):
        return (src != self.src_pad_idx).permute(1, 0)  # [B,S]

    def forward(self, src, src_len, trg, coins, return_all=False, drops=None):
        """src [S,B], src_len [B], trg [T,B], coins: sequence of T ints/bools.

        Step t = 1..T-1 feeds `input` (trg[0] at t = 1) and writes
        outputs[t]; the next input is trg[t] if coins[t] else the argmax.
        drops: None (nn.Dropout) or explicit dropout masks (src [S,B,E],
        trg [T,B,E]); trg[t] scales the embedding of the input fed at step t.
        """
        trg_len, batch_size = trg.shape
        vt = self.decoder.output_dim
        encoder_outputs, hidden = self.encoder(
            src, src_len, drops[0] if drops is not None else None)
        outputs = torch.zeros(trg_len, batch_size, vt,
                              dtype=encoder_outputs.dtype)
        attentions = torch.zeros(trg_len, batch_size, src.shape[0],
                                 dtype=encoder_outputs.dtype)
        s0 = hidden
        mask = self.create_mask(src)
        input = trg[0, :]
        for t in range(1, trg_len):
            output, hidden, a = self.decoder(
                input, hidden, encoder_outputs, mask,
                drops[1][t] if drops is not None else None)
            outputs[t] = output
            attentions[t] = a
            top1 = output.argmax(1)
            input = trg[t] if coins[t] else top1
        if return_all:
            return outputs, encoder_outputs, s0, attentions
        return outputs


def make_model(vs, vt, emb, enc_hid, dec_hid, dropout):
    attn = Attention(enc_hid, dec_hid)
    enc = Encoder(vs, emb, enc_hid, dec_hid, dropout)
    dec = Decoder(vt, emb, enc_hid, dec_hid, dropout, attn)
    return Seq2Seq(enc, dec)


def loss_fn(outputs, trg):
    """Cross-entropy over positions 1..T-1, mean over non-pad tokens."""
    vt = outputs.shape[-1]
    return F.cross_entropy(outputs[1:].reshape(-1, vt), trg[1:].reshape(-1),
                           ignore_index=PAD_IDX)


# --------------------------------------------------------------------------
# safetensors (by hand)
# --------------------------------------------------------------------------

_DTYPES = {"F32": (torch.float32, "<f4", 4), "I32": (torch.int32, "<i4", 4)}


def _tensor_bytes(t, dtype_name):
    torch_dtype, _, _ = _DTYPES[dtype_name]
    t = t.detach().to("cpu").to(torch_dtype).contiguous()
    if sys.byteorder != "little":
        raise RuntimeError("big-endian hosts are not supported")
    return t.numpy().tobytes() if _has_numpy() else _bytes_no_numpy(t)


def _has_numpy():
    try:
        import numpy  # noqa: F401
        return True
    except ImportError:
        return False


def _bytes_no_numpy(t):
    flat = t.reshape(-1).tolist()
    fmt = "<%d%s" % (len(flat), "f" if t.dtype == torch.float32 else "i")
    return struct.pack(fmt, *flat)


def save_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> torch tensor (floats stored F32, ints I32)."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        dt = "F32" if t.is_floating_point() else "I32"
        data = _tensor_bytes(t, dt)
        header[name] = {"dtype": dt, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hjson = json.dumps(header, sort_keys=True, separators=(",", ":"))
    hbytes = hjson.encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """Returns (dict name -> tensor (float32 / int32), metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        torch_dtype, _, size = _DTYPES[info["dtype"]]
        b, e = info["data_offsets"]
        count = (e - b) // size
        fmt = "<%d%s" % (count, "f" if info["dtype"] == "F32" else "i")
        vals = struct.unpack(fmt, raw[base + b:base + e])
        out[name] = torch.tensor(vals, dtype=torch_dtype).reshape(
            info["shape"])
    return out, metadata


def load_state_dict_fast(path):
    """Parameters of a (large) F32 safetensors file, without per-value unpacking."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    data = bytearray(raw[8 + n:])
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        t = torch.frombuffer(data, dtype=torch.float32, count=(e - b) // 4,
                             offset=b)
        out[name] = t.reshape(info["shape"]).clone()
    return out


# --------------------------------------------------------------------------
# golden
# --------------------------------------------------------------------------

# Every size distinct (E != H != D != 2H), so a swapped dimension cannot pass.
TINY = dict(vs=40, vt=30, emb=6, enc_hid=10, dec_hid=14)
TINY_SRC_LEN = [9, 5, 7, 3, 6]   # S = 9 = max
TINY_TRG_LEN = [8, 6, 3, 7, 5]   # T = 8 = max
TINY_COINS_MIXED = [1, 0, 1, 1, 0, 0, 1, 0]


def tiny_metadata():
    return {"src_vocab_size": str(TINY["vs"]),
            "trg_vocab_size": str(TINY["vt"]),
            "emb_dim": str(TINY["emb"]),
            "enc_hid_dim": str(TINY["enc_hid"]),
            "dec_hid_dim": str(TINY["dec_hid"]),
            "pad_idx": str(PAD_IDX)}


def make_tokens(lengths, vocab, gen):
    """Time-major [max_len, B]: <sos> random(4..V-1) <eos> <pad>..."""
    max_len = max(lengths)
    out = torch.full((max_len, len(lengths)), PAD_IDX, dtype=torch.long)
    for b, n in enumerate(lengths):
        assert n >= 3
        out[0, b] = SOS_IDX
        out[1:n - 1, b] = torch.randint(4, vocab, (n - 2,), generator=gen)
        out[n - 1, b] = EOS_IDX
    return out


def tiny_model(seed):
    torch.manual_seed(seed)
    model = make_model(dropout=0.0, **TINY).double()
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.normal_(0.0, 0.3)
            # Round to float32: the files store F32, so every expected value
            # is the float64 result for exactly the stored weights.
            p.copy_(p.float().double())
    model.train()  # dropout p = 0, so train mode is the same as eval
    return model


def tiny_inputs(seed):
    gen = torch.Generator().manual_seed(seed)
    src = make_tokens(TINY_SRC_LEN, TINY["vs"], gen)
    trg = make_tokens(TINY_TRG_LEN, TINY["vt"], gen)
    src_len = torch.tensor(TINY_SRC_LEN, dtype=torch.long)
    return src, src_len, trg


def run_full(model, src, src_len, trg, coins, drops=None):
    model.zero_grad()
    logits, enc_out, s0, att = model(src, src_len, trg, coins,
                                     return_all=True, drops=drops)
    loss = loss_fn(logits, trg)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    return logits.detach(), loss.detach(), enc_out.detach(), s0.detach(), \
        att.detach(), grads


def argmax_margin(logits, trg_len, coins):
    """Smallest top-1/top-2 logit gap among argmax-fed (coin 0) decisions
    (all batch columns, since every logit row is compared, pad rows too);
    the C++ side computes in float32, so ties must be far away."""
    m = math.inf
    for t in range(1, logits.shape[0] - 1):
        # outputs[t]'s argmax is fed at step t+1 when coins[t] == 0
        if coins[t]:
            continue
        for b in range(len(trg_len)):
            top = torch.topk(logits[t, b], 2).values
            m = min(m, float(top[0] - top[1]))
    return m


def finite_diff_check(model, src, src_len, trg, coins, grads, picks,
                      eps=1e-5, drops=None):
    """Central differences on a few entries.

    Returns (max error, rows); the error of an entry is
    |fd - autograd| / max(|fd| + |autograd|, 1e-3), i.e. relative for
    ordinary gradients and absolute (scaled) for tiny ones, where the
    difference quotient's rounding noise (~1e-11) dominates."""
    params = dict(model.named_parameters())
    worst = 0.0
    rows = []
    with torch.no_grad():
        for name, idx in picks:
            p = params[name]
            old = p[idx].item()
            p[idx] = old + eps
            lp = loss_fn(model(src, src_len, trg, coins, drops=drops),
                         trg).item()
            p[idx] = old - eps
            lm = loss_fn(model(src, src_len, trg, coins, drops=drops),
                         trg).item()
            p[idx] = old
            fd = (lp - lm) / (2 * eps)
            an = grads[name][idx].item()
            rel = abs(fd - an) / max(1e-3, abs(fd) + abs(an))
            worst = max(worst, rel)
            rows.append((name, idx, an, fd, rel))
    return worst, rows


def self_check(label, model, src, src_len, trg, coins, logits, enc_out,
               att, grads, drops=None):
    print("[%s] self-check" % label)
    # 1. Encoder outputs at pad positions are exactly zero.
    pad_max = 0.0
    for b, n in enumerate(src_len.tolist()):
        if n < src.shape[0]:
            pad_max = max(pad_max, enc_out[n:, b].abs().max().item())
    print("  encoder outputs at pad positions: max |x| = %g" % pad_max)
    assert pad_max == 0.0
    # Attention weights on pad positions are (numerically) zero.
    att_pad = 0.0
    for b, n in enumerate(src_len.tolist()):
        att_pad = max(att_pad, att[:, b, n:].abs().max().item()
                      if n < src.shape[0] else 0.0)
    print("  attention weight on pad positions: max = %g" % att_pad)
    assert att_pad == 0.0
    # 2. Each sentence alone (batch of 1) gives the same logits/attention.
    lg_diff = 0.0
    at_diff = 0.0
    trg_len = (trg != PAD_IDX).sum(0).tolist()
    with torch.no_grad():
        for b, n in enumerate(src_len.tolist()):
            m = trg_len[b]
            s1 = src[:n, b:b + 1]
            t1 = trg[:m, b:b + 1]
            d1 = None if drops is None else (drops[0][:n, b:b + 1],
                                             drops[1][:m, b:b + 1])
            lg1, _, _, at1 = model(s1, src_len[b:b + 1], t1, coins[:m],
                                   return_all=True, drops=d1)
            lg_diff = max(lg_diff,
                          (lg1[1:m, 0] - logits[1:m, b]).abs().max().item())
            at_diff = max(at_diff,
                          (at1[1:m, 0] - att[1:m, b, :n]).abs().max().item())
    print("  batch-of-1 vs batch: max |logit diff| = %.3g, "
          "max |attention diff| = %.3g" % (lg_diff, at_diff))
    assert lg_diff < 1e-10 and at_diff < 1e-10
    # 3. Finite differences on a few parameter entries (float64).
    picks = [
        ("decoder.attention.v.weight", (0, 3)),
        ("decoder.attention.attn.bias", (5,)),
        ("decoder.attention.attn.weight", (2, 20)),
        ("encoder.rnn.bias_hh_l0_reverse", (29,)),
        ("encoder.rnn.weight_ih_l0", (7, 2)),
        ("encoder.fc.bias", (4,)),
        ("encoder.embedding.weight", (int(src[1, 0]), 1)),
        ("decoder.rnn.weight_hh_l0", (13, 5)),
        ("decoder.rnn.bias_ih_l0", (25,)),
        ("decoder.fc_out.bias", (int(trg[1, 0]),)),
        ("decoder.embedding.weight", (int(trg[1, 3]), 5)),
    ]
    worst, rows = finite_diff_check(model, src, src_len, trg, coins, grads,
                                    picks, drops=drops)
    for name, idx, an, fd, rel in rows:
        print("    %-32s %-8s autograd % .10e  fd % .10e  err %.2e"
              % (name, str(list(idx)), an, fd, rel))
    print("  finite differences: max error = %.3g" % worst)
    assert worst < 1e-6
    return {"pad_max": pad_max, "batch1_logit_diff": lg_diff,
            "batch1_att_diff": at_diff, "fd_max_rel": worst}


def dropout_masks(src, trg, p, seed):
    """Explicit inverted-dropout masks (0 or 1/(1-p)) for both embeddings."""
    gen = torch.Generator().manual_seed(seed)
    keep = 1.0 - p
    src_m = (torch.rand(src.shape[0], src.shape[1], TINY["emb"],
                        generator=gen) < keep).double() / keep
    trg_m = (torch.rand(trg.shape[0], trg.shape[1], TINY["emb"],
                        generator=gen) < keep).double() / keep
    return src_m, trg_m


def golden_case(path, label, model_seed, input_seed, coins, dropout_seed=None):
    model = tiny_model(model_seed)
    src, src_len, trg = tiny_inputs(input_seed)
    drops = (None if dropout_seed is None
             else dropout_masks(src, trg, 0.5, dropout_seed))
    logits, loss, enc_out, s0, att, grads = run_full(model, src, src_len,
                                                     trg, coins, drops)
    trg_len = (trg != PAD_IDX).sum(0).tolist()
    n_argmax = sum(1 for t in range(1, len(coins) - 1) if not coins[t])
    margin = argmax_margin(logits, trg_len, coins)
    print("[%s] loss = %.12f, argmax-fed steps = %d, min top1-top2 gap at "
          "argmax decisions = %s" % (label, loss.item(), n_argmax,
                                     "n/a" if margin == math.inf
                                     else "%.4g" % margin))
    assert margin > 1e-3
    checks = self_check(label, model, src, src_len, trg, coins, logits,
                        enc_out, att, grads, drops)
    tensors = {n: p.detach() for n, p in model.named_parameters()}
    for n, g in grads.items():
        tensors["grad." + n] = g
    tensors["input.src"] = src.int()
    tensors["input.src_len"] = src_len.int()
    tensors["input.trg"] = trg.int()
    tensors["input.coins"] = torch.tensor(coins, dtype=torch.int32)
    if drops is not None:
        tensors["input.src_drop"] = drops[0]
        tensors["input.trg_drop"] = drops[1]
    tensors["output.logits"] = logits
    tensors["output.loss"] = loss.reshape(1)
    tensors["output.encoder_outputs"] = enc_out
    tensors["output.s0"] = s0
    tensors["output.attention"] = att
    save_safetensors(path, tensors, tiny_metadata())
    return checks


def golden_ckpt(out_dir, model_seed, input_seed):
    model = tiny_model(model_seed)
    src, src_len, trg = tiny_inputs(input_seed)
    coins = [1] * trg.shape[0]
    with torch.no_grad():
        logits = model(src, src_len, trg, coins)
        loss = loss_fn(logits, trg)
    ck = os.path.join(out_dir, "tiny_ckpt")
    os.makedirs(ck, exist_ok=True)
    save_safetensors(os.path.join(ck, "model.safetensors"),
                     {n: p.detach() for n, p in model.named_parameters()},
                     {"format": "pt"})
    config = {"format": "nmt-seq2seq", "version": 1, "src_lang": "de",
              "trg_lang": "en", "src_vocab_size": TINY["vs"],
              "trg_vocab_size": TINY["vt"], "emb_dim": TINY["emb"],
              "enc_hid_dim": TINY["enc_hid"], "dec_hid_dim": TINY["dec_hid"],
              "dropout": 0.5, "lowercase": True}
    with open(os.path.join(ck, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    for fname, prefix, v in (("vocab.src.txt", "s", TINY["vs"]),
                             ("vocab.trg.txt", "t", TINY["vt"])):
        words = SPECIALS + ["%s%d" % (prefix, i) for i in range(4, v)]
        with open(os.path.join(ck, fname), "w") as f:
            f.write("".join(w + "\n" for w in words))
    save_safetensors(
        os.path.join(out_dir, "tiny_ckpt_expected.safetensors"),
        {"input.src": src.int(), "input.src_len": src_len.int(),
         "input.trg": trg.int(),
         "input.coins": torch.tensor(coins, dtype=torch.int32),
         "output.logits": logits, "output.loss": loss.reshape(1)},
        tiny_metadata())
    # Round trip: the reader gives back exactly the stored weights.
    back, _ = load_safetensors(os.path.join(ck, "model.safetensors"))
    m2 = make_model(dropout=0.0, **TINY).double()
    m2.load_state_dict({k: v.double() for k, v in back.items()})
    with torch.no_grad():
        lg2 = m2(src, src_len, trg, coins)
    d = (lg2 - logits).abs().max().item()
    print("[tiny_ckpt] loss = %.12f, reload max |logit diff| = %g"
          % (loss.item(), d))
    assert d == 0.0


# Sentence lengths (with <sos>/<eos>) of the evaluate() golden: 11 pairs, ties
# in source length (stable order matters), batches of 4 -> 4 + 4 + 3.
EVAL_SRC_LEN = [7, 4, 9, 4, 6, 3, 7, 5, 4, 8, 6]
EVAL_TRG_LEN = [6, 5, 8, 3, 7, 4, 9, 5, 6, 7, 4]
EVAL_BATCH = 4


def tutorial_evaluate(model, pairs, batch_size, teacher_forcing):
    """The tutorial's evaluate(): torchtext's BucketIterator for evaluation
    sorts the whole set by source length (a stable sort) and cuts it into
    batches; each batch's loss is CrossEntropyLoss(ignore_index=pad), a mean
    over its non-pad target tokens, and the result is the mean of those
    batch means. With teacher_forcing the token-weighted mean instead
    (nmt's `loss`)."""
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]))
    total, tokens, means = 0.0, 0, []
    margin = math.inf
    with torch.no_grad():
        for k in range(0, len(order), batch_size):
            chunk = [pairs[i] for i in order[k:k + batch_size]]
            src, src_len = pad_batch([c[0] for c in chunk])
            trg, _ = pad_batch([c[1] for c in chunk])
            coins = [1 if teacher_forcing else 0] * trg.shape[0]
            out = model(src, src_len, trg, coins)
            loss = loss_fn(out, trg).item()
            n = int((trg[1:] != PAD_IDX).sum())
            means.append(loss)
            total += loss * n
            tokens += n
            if not teacher_forcing:
                trg_len = (trg != PAD_IDX).sum(0).tolist()
                margin = min(margin, argmax_margin(out, trg_len, coins))
    if teacher_forcing:
        return total / tokens, tokens, margin
    return sum(means) / len(means), tokens, margin


def golden_evaluate(path, model_seed, input_seed):
    model = tiny_model(model_seed)
    model.eval()
    gen = torch.Generator().manual_seed(input_seed)
    src_t = make_tokens(EVAL_SRC_LEN, TINY["vs"], gen)
    trg_t = make_tokens(EVAL_TRG_LEN, TINY["vt"], gen)
    pairs = [(src_t[:EVAL_SRC_LEN[i], i].tolist(),
              trg_t[:EVAL_TRG_LEN[i], i].tolist())
             for i in range(len(EVAL_SRC_LEN))]
    loss, tokens, _ = tutorial_evaluate(model, pairs, EVAL_BATCH, True)
    loss_free, _, margin = tutorial_evaluate(model, pairs, EVAL_BATCH, False)
    # The same set in corpus order (no sort) must give a different loss_free,
    # or the golden could not tell the batching apart.
    unsorted = []
    with torch.no_grad():
        for k in range(0, len(pairs), EVAL_BATCH):
            chunk = pairs[k:k + EVAL_BATCH]
            src, src_len = pad_batch([c[0] for c in chunk])
            trg, _ = pad_batch([c[1] for c in chunk])
            unsorted.append(loss_fn(model(src, src_len, trg,
                                          [0] * trg.shape[0]), trg).item())
    loss_free_unsorted = sum(unsorted) / len(unsorted)
    print("[tiny_eval] loss = %.10f over %d tokens, loss_free = %.10f "
          "(corpus order: %.10f), min top1-top2 gap at argmax decisions = "
          "%.4g" % (loss, tokens, loss_free, loss_free_unsorted, margin))
    assert margin > 1e-3
    assert abs(loss_free - loss_free_unsorted) > 1e-3
    tensors = {n: p.detach() for n, p in model.named_parameters()}
    tensors["input.src"] = src_t.int()
    tensors["input.trg"] = trg_t.int()
    tensors["input.src_len"] = torch.tensor(EVAL_SRC_LEN, dtype=torch.int32)
    tensors["input.trg_len"] = torch.tensor(EVAL_TRG_LEN, dtype=torch.int32)
    tensors["input.batch_size"] = torch.tensor([EVAL_BATCH],
                                               dtype=torch.int32)
    tensors["output.loss"] = torch.tensor([loss])
    tensors["output.loss_free"] = torch.tensor([loss_free])
    tensors["output.loss_free_corpus_order"] = torch.tensor(
        [loss_free_unsorted])
    tensors["output.tokens"] = torch.tensor([tokens], dtype=torch.int32)
    save_safetensors(path, tensors, tiny_metadata())


def cmd_golden(args):
    torch.set_num_threads(1)  # deterministic float64 reductions
    torch.set_default_dtype(torch.float64)
    os.makedirs(args.out, exist_ok=True)
    golden_case(os.path.join(args.out, "tiny_tf1.safetensors"), "tiny_tf1",
                model_seed=1234, input_seed=99, coins=[1] * 8)
    golden_case(os.path.join(args.out, "tiny_coins.safetensors"),
                "tiny_coins", model_seed=1234, input_seed=99,
                coins=TINY_COINS_MIXED)
    golden_case(os.path.join(args.out, "tiny_dropout.safetensors"),
                "tiny_dropout", model_seed=1234, input_seed=99,
                coins=TINY_COINS_MIXED, dropout_seed=5)
    golden_ckpt(args.out, model_seed=4321, input_seed=77)
    golden_evaluate(os.path.join(args.out, "tiny_eval.safetensors"),
                    model_seed=2468, input_seed=31)
    total = 0
    for root, _, files in os.walk(args.out):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            total += os.path.getsize(p)
            print("  %-50s %8d bytes" % (p, os.path.getsize(p)))
    print("  total %d bytes" % total)


# --------------------------------------------------------------------------
# bench
# --------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]", re.UNICODE)


def tokenize(line):
    return _TOKEN_RE.findall(line.lower())


def read_gz(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def build_vocab(sentences, size, min_freq=2):
    counts = Counter(tok for s in sentences for tok in s)
    words = [w for w, c in counts.items() if c >= min_freq]
    words.sort(key=lambda w: (-counts[w], w.encode("utf-8")))
    itos = SPECIALS + words[:size - len(SPECIALS)]
    while len(itos) < size:
        itos.append("<extra%d>" % len(itos))
    return {w: i for i, w in enumerate(itos)}, len(words) + len(SPECIALS)


def encode(tokens, stoi):
    return [SOS_IDX] + [stoi.get(t, UNK_IDX) for t in tokens] + [EOS_IDX]


def pad_batch(seqs):
    n = max(len(s) for s in seqs)
    out = torch.full((n, len(seqs)), PAD_IDX, dtype=torch.long)
    for b, s in enumerate(seqs):
        out[:len(s), b] = torch.tensor(s, dtype=torch.long)
    return out, torch.tensor([len(s) for s in seqs], dtype=torch.long)


def greedy(model, src, src_len, max_len):
    """Batched greedy decoding; returns generated ids per sentence
    (up to and including <eos>)."""
    batch = src.shape[1]
    enc_out, hidden = model.encoder(src, src_len)
    mask = model.create_mask(src)
    input = torch.full((batch,), SOS_IDX, dtype=torch.long)
    done = torch.zeros(batch, dtype=torch.bool)
    result = [[] for _ in range(batch)]
    for _ in range(max_len):
        out, hidden, _ = model.decoder(input, hidden, enc_out, mask)
        input = out.argmax(1)
        for b in range(batch):
            if not done[b]:
                result[b].append(int(input[b]))
        done |= input == EOS_IDX
        if bool(done.all()):
            break
    return result


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(obj):
    print(json.dumps(obj), flush=True)


def cmd_bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    vs, vt, emb, hid, batch = 7853, 5893, 256, 512, 128
    trained = None
    if args.model:  # sizes, vocabularies and weights of a model trained by `nmt train`
        with open(os.path.join(args.model, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        vs, vt = cfg["src_vocab_size"], cfg["trg_vocab_size"]
        emb, hid = cfg["emb_dim"], cfg["enc_hid_dim"]
        trained = load_state_dict_fast(os.path.join(args.model, "model.safetensors"))

    t0 = time.perf_counter()
    tr_de = [tokenize(s) for s in read_gz(os.path.join(args.data,
                                                       "train.de.gz"))]
    tr_en = [tokenize(s) for s in read_gz(os.path.join(args.data,
                                                       "train.en.gz"))]
    va_de = [tokenize(s) for s in read_gz(os.path.join(args.data,
                                                       "val.de.gz"))]
    src_stoi, src_n = build_vocab(tr_de, vs)
    trg_stoi, trg_n = build_vocab(tr_en, vt)
    if args.model:
        with open(os.path.join(args.model, "vocab.src.txt"), encoding="utf-8") as f:
            src_stoi = {w.rstrip("\n"): i for i, w in enumerate(f)}
    emit({"what": "data", "train_pairs": len(tr_de),
          "src_vocab_natural": src_n, "trg_vocab_natural": trg_n,
          "src_vocab": vs, "trg_vocab": vt,
          "seconds": round(time.perf_counter() - t0, 2)})

    model = make_model(vs, vt, emb, hid, hid, 0.5)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "weight" in name:
                p.normal_(0.0, 0.01)
            else:
                p.zero_()
    nparams = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    order = list(range(len(tr_de)))
    random.Random(args.seed).shuffle(order)
    pairs = [(encode(tr_de[i], src_stoi), encode(tr_en[i], trg_stoi))
             for i in order]

    def get_batch(k):
        chunk = [pairs[(k * batch + j) % len(pairs)] for j in range(batch)]
        src, src_len = pad_batch([c[0] for c in chunk])
        trg, _ = pad_batch([c[1] for c in chunk])
        return src, src_len, trg

    model.train()
    tokens = 0
    elapsed = 0.0
    losses = []
    for step in range(args.warmup + args.steps):
        src, src_len, trg = get_batch(step)
        coins = [1] + [random.random() < 0.5 for _ in range(trg.shape[0] - 1)]
        t = time.perf_counter()
        opt.zero_grad()
        out = model(src, src_len, trg, coins)
        loss = loss_fn(out, trg)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        dt = time.perf_counter() - t
        losses.append(loss.item())
        if step >= args.warmup:
            elapsed += dt
            tokens += int((trg[1:] != PAD_IDX).sum())
    emit({"what": "train", "impl": "pytorch", "threads": args.threads,
          "blas_core": blas_core_name(),
          "batch": batch, "tokens_per_s": round(tokens / elapsed, 2),
          "steps": args.steps, "warmup": args.warmup, "tokens": tokens,
          "seconds": round(elapsed, 3), "params": nparams,
          "last_loss": round(losses[-1], 4),
          "peak_rss_mb": round(peak_rss_mb(), 1)})

    model.eval()
    if trained is not None:
        model.load_state_dict(trained)
    # The same sentences `nmt bench` translates: test2016.
    val = [encode(tokenize(s), src_stoi) for s in
           read_gz(os.path.join(args.data, "test_2016_flickr.de.gz"))]
    with torch.no_grad():
        n_single = min(args.single, len(val))
        t = time.perf_counter()
        gen_tokens = 0
        for i in range(n_single):
            src, src_len = pad_batch([val[i]])
            gen_tokens += len(greedy(model, src, src_len, args.max_len)[0])
        dt = time.perf_counter() - t
        emit({"what": "translate_greedy_single", "impl": "pytorch",
              "threads": args.threads, "sentences": n_single,
              "sentences_per_s": round(n_single / dt, 3),
              "tokens_per_s": round(gen_tokens / dt, 2),
              "ms_per_sentence": round(1000 * dt / n_single, 2),
              "trained_model": trained is not None})

        n_batched = min(args.batched, len(val))
        t = time.perf_counter()
        gen_tokens = 0
        for k in range(0, n_batched, batch):
            src, src_len = pad_batch(val[k:min(k + batch, n_batched)])
            gen_tokens += sum(len(r) for r in
                              greedy(model, src, src_len, args.max_len))
        dt = time.perf_counter() - t
        emit({"what": "translate_greedy_batched", "impl": "pytorch",
              "threads": args.threads, "batch": batch,
              "sentences": n_batched,
              "sentences_per_s": round(n_batched / dt, 3),
              "tokens_per_s": round(gen_tokens / dt, 2),
              "trained_model": trained is not None})
    emit({"what": "peak_rss", "impl": "pytorch",
          "peak_rss_mb": round(peak_rss_mb(), 1)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("golden", help="write golden test files")
    g.add_argument("--out", default="tests/golden")
    b = sub.add_parser("bench", help="PyTorch speed baseline")
    b.add_argument("--data", default="data/multi30k")
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--coretype", default="",
                   help="force this OpenBLAS kernel (OPENBLAS_CORETYPE) instead of the best")
    b.add_argument("--steps", type=int, default=20)
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--seed", type=int, default=1234)
    b.add_argument("--max-len", type=int, default=100)
    b.add_argument("--single", type=int, default=100,
                   help="test2016 sentences translated one at a time")
    b.add_argument("--batched", type=int, default=1000,
                   help="test2016 sentences translated at batch 128")
    b.add_argument("--model", default="",
                   help="nmt model directory: its weights and vocabularies are "
                        "used for the translation figures")
    args = ap.parse_args()
    if args.cmd == "golden":
        cmd_golden(args)
    else:
        cmd_bench(args)


if __name__ == "__main__":
    main()
