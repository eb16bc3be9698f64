#!/usr/bin/env python3
"""Turn the weights inside a training state into a model directory that `nmt` can load.

    tools/model_from_state.py RUN/train_state.safetensors RUN OUT

RUN/model.safetensors is the best checkpoint; RUN/train_state.safetensors holds the last
weights as one flat `params` tensor (plus Adam moments). OUT gets RUN's config and vocabularies
and a model.safetensors with the state's weights, so `nmt eval --model OUT` scores them (e.g. a
copy of the state taken at an epoch end). Standard library only.
"""
import json
import os
import shutil
import struct
import sys


PARAM_ORDER = (
    ["encoder.embedding.weight"]
    + [
        f"encoder.rnn.{w}_l0{sfx}"
        for sfx in ("", "_reverse")
        for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    + ["encoder.fc.weight", "encoder.fc.bias"]
    + ["decoder.attention.attn.weight", "decoder.attention.attn.bias", "decoder.attention.v.weight"]
    + ["decoder.embedding.weight"]
    + [f"decoder.rnn.{w}_l0" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    + ["decoder.fc_out.weight", "decoder.fc_out.bias"]
)


def read_header(f):
    (n,) = struct.unpack("<Q", f.read(8))
    return n, json.loads(f.read(n))


def main(state_path, run, out):
    with open(state_path, "rb") as f:
        n, header = read_header(f)
        state_meta = header.get("__metadata__", {})
        begin, end = header["params"]["data_offsets"]
        f.seek(8 + n + begin)
        params = f.read(end - begin)
    with open(os.path.join(run, "model.safetensors"), "rb") as f:
        n, header = read_header(f)
    # The flat buffer holds the tensors in the order of model::param_table (src/model/params.cpp),
    # each starting on a 16-float boundary; the file stores them by name.
    data, flat = {}, 0
    for name in PARAM_ORDER:
        t = header.get(name)
        if t is None or t["dtype"] != "F32":
            sys.exit(f"{run}/model.safetensors: no F32 tensor {name}")
        size = t["data_offsets"][1] - t["data_offsets"][0]
        data[name] = params[flat : flat + size]
        flat += (size + 63) // 64 * 64
    if flat != len(params) or len(header) != len(PARAM_ORDER) + ("__metadata__" in header):
        sys.exit(f"{state_path}: {len(params)} bytes of weights do not fit {run}'s model")
    in_file = sorted(PARAM_ORDER, key=lambda k: header[k]["data_offsets"][0])
    os.makedirs(out, exist_ok=True)
    for name in ("vocab.src.txt", "vocab.trg.txt"):
        shutil.copyfile(os.path.join(run, name), os.path.join(out, name))
    # The config's "training" block describes the best checkpoint; say where these weights are from.
    with open(os.path.join(run, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    step = json.loads(state_meta["state"])["step"]
    config["training"] = {"from_state": os.path.abspath(state_path), "step": step}
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(run, "model.safetensors"), "rb") as f:
        head = f.read(8 + n)
    tmp = os.path.join(out, "model.safetensors.tmp")
    with open(tmp, "wb") as f:
        f.write(head)
        for name in in_file:
            f.write(data[name])
    os.replace(tmp, os.path.join(out, "model.safetensors"))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
