#!/usr/bin/env python3
"""Inline markup carried by attention (`nmt translate --format html`), measured.

test2016 sentences in which one word of a hand-made German->English noun list occurs once get
that word wrapped in <b>; its English counterpart (the list's, by hand) must be inside the <b>
of the translation. A sentence counts when its translation (tags removed) has exactly one of the
counterparts; the others are listed as not judged. Every output must parse as balanced HTML and
keep every tag and attribute of its input.
Usage: bench/html_tags.py MODEL [NMT=build/nmt] [--beam B] [--show N]
"""
import argparse, gzip, html, html.parser, os, re, subprocess

WORDS = {  # German noun -> English words that translate it (by hand)
    "Mann": ["man"], "Frau": ["woman", "lady"], "Hund": ["dog"], "Kind": ["child", "kid"],
    "Junge": ["boy"], "Mädchen": ["girl"], "Ball": ["ball"], "Straße": ["street", "road"],
    "Wasser": ["water"], "Fahrrad": ["bike", "bicycle"], "Auto": ["car"], "Hemd": ["shirt"],
    "Gruppe": ["group"], "Männer": ["men"], "Frauen": ["women"], "Kinder": ["children", "kids"],
    "Hunde": ["dogs"], "Strand": ["beach"], "Schnee": ["snow"], "Gras": ["grass"],
    "Baum": ["tree"], "Stadt": ["city", "town"], "Haus": ["house", "home"], "Tisch": ["table"],
    "Bank": ["bench"], "Hut": ["hat"], "Jacke": ["jacket", "coat"], "Gebäude": ["building"],
    "Pferd": ["horse"], "Boot": ["boat"], "Gitarre": ["guitar"], "Bühne": ["stage"],
    "Wand": ["wall"], "Feld": ["field"], "Park": ["park"], "Kamera": ["camera"],
    "Fluss": ["river"], "Berg": ["mountain"], "Mütze": ["hat", "cap"], "Brille": ["glasses"],
    "Sonnenbrille": ["sunglasses"], "Hose": ["pants", "trousers", "jeans"], "Menge": ["crowd"],
    "Menschen": ["people"], "Leute": ["people"], "Arbeiter": ["worker"], "Spieler": ["player"],
    "Baby": ["baby"], "Mauer": ["wall"], "Fenster": ["window"], "Tür": ["door"],
    "Küche": ["kitchen"], "Essen": ["food"], "Pool": ["pool"], "Schwimmbecken": ["pool"],
    "Zaun": ["fence"], "Felsen": ["rock", "rocks"], "Sand": ["sand"], "Luft": ["air"],
    "Hand": ["hand"], "Kopf": ["head"], "Mikrofon": ["microphone"], "Fußball": ["soccer", "football"],
    "Tennis": ["tennis"], "Basketball": ["basketball"], "Motorrad": ["motorcycle", "motorbike"],
    "Bus": ["bus"], "Zug": ["train"], "Laden": ["store", "shop"], "Markt": ["market"],
    "Bürgersteig": ["sidewalk"], "Gehweg": ["sidewalk"], "Brücke": ["bridge"], "See": ["lake"],
    "Ozean": ["ocean"], "Meer": ["ocean", "sea"], "Welle": ["wave"], "Buch": ["book"],
    "Zeitung": ["newspaper", "paper"], "Schild": ["sign"], "Fahne": ["flag"], "Flagge": ["flag"],
    "Kleid": ["dress"], "Katze": ["cat"], "Vogel": ["bird"], "Pferde": ["horses"],
}

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("nmt", nargs="?", default="build/nmt")
ap.add_argument("--beam", default="5")
ap.add_argument("--show", type=int, default=8)
a = ap.parse_args()
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
src = gzip.open(f"{root}/data/multi30k/test_2016_flickr.de.gz", "rt").read().splitlines()
items = []  # (html line, English candidates)
for s in src:
    hits = [w for w in WORDS if len(re.findall(rf"(?<!\w){re.escape(w)}(?!\w)", s)) == 1]
    if len(hits) != 1:
        continue
    w = hits[0]
    m = re.search(rf"(?<!\w){re.escape(w)}(?!\w)", s)
    line = (html.escape(s[:m.start()], quote=False) + '<b class="k">' + w + "</b>" +
            html.escape(s[m.end():], quote=False))
    items.append((f'<p data-i="{len(items)}">{line}</p>', WORDS[w]))
doc = "\n".join(h for h, _ in items) + "\n"
out = subprocess.run([a.nmt, "translate", "--model", a.model, "--format", "html", "--beam", a.beam],
                     input=doc, capture_output=True, text=True, check=True).stdout.splitlines()
assert len(out) == len(items), (len(out), len(items))

class Check(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.ok = [], [], True
    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        self.tags.append((tag, tuple(attrs)))
    def handle_endtag(self, tag):
        self.ok = self.ok and bool(self.stack) and self.stack.pop() == tag

right = judged = wellformed = kept = 0
shown = []
for (src_html, cands), got in zip(items, out):
    c_in, c_out = Check(), Check()
    c_in.feed(src_html), c_out.feed(got)
    good = c_out.ok and not c_out.stack
    wellformed += good
    kept += sorted(c_in.tags) == sorted(c_out.tags)
    plain = html.unescape(re.sub(r"<[^>]+>", "", got))
    occ = [(m.start(), m.end()) for c in cands for m in re.finditer(rf"(?<!\w){re.escape(c)}(?!\w)", plain)]
    if len(occ) != 1:
        continue
    judged += 1
    b = re.search(r"<b[^>]*>(.*?)</b>", got)
    inside = html.unescape(re.sub(r"<[^>]+>", "", b.group(1))) if b else ""
    hit = any(re.search(rf"(?<!\w){re.escape(c)}(?!\w)", inside) for c in cands)
    right += hit
    if not hit and len(shown) < a.show:
        shown.append(f"  {src_html}\n  -> {got}")
n = len(items)
print(f"{n} sentences with one listed word in <b>; outputs well-formed {wellformed}/{n}, "
      f"every tag and attribute kept {kept}/{n}")
print(f"judged {judged} (translation has exactly one counterpart): tag on the right word "
      f"{right}/{judged} = {100 * right / max(judged, 1):.1f}%")
if shown:
    print("misses (first few):\n" + "\n".join(shown))
