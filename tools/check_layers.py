#!/usr/bin/env python3
"""The include graph of src/ has no arrow from a lower folder to a higher one.

Floors, lowest first (docs/architecture.md): common; tensor, text; data; model; decode, eval,
viz; train, serve, distributed; cli. A file may include its own floor and those below.
Usage: tools/check_layers.py [SRC_DIR]   (exit 1 and one line per upward include)
"""
import pathlib
import re
import sys

FLOORS = [["common"], ["tensor", "text"], ["data"], ["model"], ["decode", "eval", "viz"],
          ["train", "serve", "distributed"], ["cli"]]
LEVEL = {folder: i for i, floor in enumerate(FLOORS) for folder in floor}

src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent / "src")
bad = []
for path in sorted(src.rglob("*")):
    if path.suffix not in (".h", ".cpp"):
        continue
    folder = path.relative_to(src).parts[0]
    if folder not in LEVEL:
        bad.append(f"{path}: folder '{folder}' has no floor in tools/check_layers.py")
        continue
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = re.match(r'\s*#\s*include\s+"([a-z_]+)/', line)
        if m and m.group(1) in LEVEL and LEVEL[m.group(1)] > LEVEL[folder]:
            bad.append(f"{path}:{n}: {folder} (floor {LEVEL[folder]}) includes {m.group(1)}/ "
                       f"(floor {LEVEL[m.group(1)]})")
print("\n".join(bad) if bad else f"layers: no upward include in {src}")
sys.exit(1 if bad else 0)
