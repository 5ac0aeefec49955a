"""userspace/ is in layers (util, model, kernel, config, engine, cli): a file
includes headers of its own layer and the layers below it, never above.  And
within config/, the calls between files form no cycle (the reader does not
call back into the validator or the facade), checked on the built objects."""
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "userspace"
BUILD = REPO / "build" / "obj"


def layers():
    out = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(REPO), "print-LAYERS"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out and out[0] == "util" and out[-1] == "cli", out
    return out


def test_every_source_file_is_in_a_layer():
    order = layers()
    stray = [p.name for p in SRC.iterdir() if p.is_file()]
    assert not stray, f"files outside a layer folder: {stray}"
    assert sorted(p.name for p in SRC.iterdir()) == sorted(order)


def test_no_file_includes_a_layer_above_its_own():
    order = layers()
    rank = {d: i for i, d in enumerate(order)}
    where = {p.name: p.parent.name for p in SRC.glob("*/*.h")}
    bad = []
    for src in sorted(SRC.glob("*/*.[ch]")):
        mine = rank[src.parent.name]
        for inc in re.findall(r'^#include "([^"]+)"', src.read_text(), re.M):
            layer = where.get(inc)
            if layer is not None and rank[layer] > mine:
                bad.append(f"{src.relative_to(SRC)} includes {layer}/{inc}")
    assert not bad, "\n".join(bad)


def symbols(obj):
    out = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBR":
            defined.add(parts[2])
    return defined, undefined


def test_config_files_call_each_other_without_a_cycle():
    objs = sorted((BUILD / "config").glob("*.o"))
    assert len(objs) >= 5, "build first: make all"
    syms = {o.stem: symbols(o) for o in objs}
    edges = {a: {b for b in syms if b != a and syms[a][1] & syms[b][0]} for a in syms}
    seen, stack = set(), []

    def visit(n):
        if n in stack:
            raise AssertionError("cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
        if n in seen:
            return
        stack.append(n)
        for m in sorted(edges[n]):
            visit(m)
        stack.pop()
        seen.add(n)

    for n in sorted(edges):
        visit(n)
