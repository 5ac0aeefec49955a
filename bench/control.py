"""3. Control plane: `xtc apply` from nothing at 1k, 100k and 1M rules (wall
time, peak RSS), re-apply unchanged and with one rule changed at 100k, and
`xtc status` / `xtc stats` at 100k.

Each apply-from-nothing repetition starts after `xtc unload --all`, which
removes the pinned state.  Once a size is loaded, on_loaded(n, ns, dev, fs)
lets the scaling section measure the datapath on exactly that rule set."""
import json
import os
import re
import time

import rulegen
from common import XTC, bpffs, build_tool, log, netns, sh, summary, timed_rss, veth, xtc

CHANGED_RULE = 0  # template 0 rule whose port changes for the one-rule re-apply


def phases(cfg, ns):
    """One more run with -v: {phase: seconds} from xtc's "timing:" lines (the timed runs
    stay without -v).  Only the top-level config line is kept of the config's phases."""
    _, _, p = timed_rss([XTC, "-v", "-c", cfg, "apply"], ns=ns)
    out = {}
    for ln in p.stderr.splitlines():
        _, sep, rest = ln.partition("timing: ")
        name, _, secs = rest.rpartition(" ")
        if sep and secs == "s":
            name, _, secs = name.rpartition(" ")
        if not sep or name.startswith("config ") or name in out:
            continue
        try:
            out[name] = float(secs)
        except ValueError:
            pass
    return out


def run(ctx, on_loaded=None):
    sizes, reps = ctx["control_sizes"], ctx["reps"]
    budget = ctx["apply_budget_s"]
    ns = netns("xbcp")
    fs = bpffs(ctx["dir"])
    veth(ns, "cp0", ns, "cp1")
    res = {"sizes": {}, "apply_budget_s": budget}
    cfg = None
    try:
        for n in sizes:
            cfg = os.path.join(ctx["dir"], f"rules-{n}.ini")
            t0 = time.perf_counter()
            rulegen.write_config(cfg, n, fs, ifaces=[("cp0", {})], extra=rulegen.TAIL_RULE)
            gen_s = time.perf_counter() - t0
            size_mb = os.path.getsize(cfg) / 1e6
            walls, rss, unloads, out = [], [], [], ""
            started = time.perf_counter()
            while len(walls) < reps:
                t0 = time.perf_counter()
                xtc(ns, cfg, "unload", "--all", check=False)
                unloads.append(time.perf_counter() - t0)
                w, r, p = timed_rss([XTC, "-c", cfg, "apply"], ns=ns)
                walls.append(w)
                rss.append(r / 1024)
                out = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
                log(f"control: apply {n:,} rules from nothing: {w:.2f} s, {r / 1024:.0f} MiB")
                spent = time.perf_counter() - started
                if len(walls) < reps and spent + w > budget and len(walls) >= 1:
                    log(f"control: {n:,} rules: stopping after {len(walls)} repetitions "
                        f"(time budget {budget} s)")
                    break
            # Where the time of the last one went, from xtc's own timing lines.
            xtc(ns, cfg, "unload", "--all", check=False)
            entry_phases = phases(cfg, ns)
            entry = {"apply": summary(walls), "rss_mib": summary(rss), "phases": entry_phases,
                     "unload_s": summary(unloads[1:]) if len(unloads) > 1 else None,
                     "file_mb": size_mb, "generate_s": gen_s, "summary_line": out,
                     "reps_short": len(walls) < reps}
            res["sizes"][n] = entry
            if n == ctx["diff_size"]:
                entry.update(diff_tests(ns, cfg, fs, n, reps))
            if n >= 1_000_000:
                entry["kernel_floor"] = kernel_floor(n, out, reps)
            if on_loaded:
                on_loaded(n, ns, "cp0", fs, cfg)
        return res
    finally:
        if cfg:
            xtc(ns, cfg, "unload", "--all", check=False)
        sh(["ip", "netns", "del", ns], check=False)


def diff_tests(ns, cfg, fs, n, reps):
    """Re-apply unchanged; one rule changed (alternating two files); status; stats."""
    out = {}
    w = [timed_rss([XTC, "-c", cfg, "apply"], ns=ns) for _ in range(reps)]
    out["reapply_unchanged"] = summary([x[0] for x in w])
    out["reapply_unchanged_rss_mib"] = summary([x[1] / 1024 for x in w])
    out["reapply_unchanged_says"] = w[-1][2].stdout.strip().splitlines()[-1]
    out["reapply_unchanged_phases"] = phases(cfg, ns)
    log(f"control: re-apply unchanged at {n:,}: {out['reapply_unchanged']['median']:.2f} s")

    changed = cfg + ".changed"

    def bump(i, kv):
        if i == CHANGED_RULE:
            kv = dict(kv, dst_port="8080")
        return kv
    rulegen.write_config(changed, n, fs, ifaces=[("cp0", {})], override=bump,
                         extra=rulegen.TAIL_RULE)
    files = [changed, cfg]
    w = []
    for i in range(reps):
        w.append(timed_rss([XTC, "-c", files[i % 2], "apply"], ns=ns))
    out["reapply_one_changed_phases"] = phases(files[reps % 2], ns)
    xtc(ns, cfg, "apply")  # back to the original rules
    out["reapply_one_changed"] = summary([x[0] for x in w])
    out["reapply_one_changed_rss_mib"] = summary([x[1] / 1024 for x in w])
    lines = [ln for ln in w[0][2].stdout.splitlines() if ln.startswith("~ classifier:")]
    out["reapply_one_changed_says"] = lines[0] if lines else ""
    log(f"control: one rule changed at {n:,}: {out['reapply_one_changed']['median']:.3f} s")

    for cmd in (["status"], ["stats"], ["stats", "--json"]):
        w = [timed_rss([XTC, "-c", cfg] + cmd, ns=ns) for _ in range(reps)]
        out[" ".join(cmd)] = summary([x[0] for x in w])
        out[" ".join(cmd) + " rss_mib"] = summary([x[1] / 1024 for x in w])
        out[" ".join(cmd) + " bytes"] = len(w[-1][2].stdout)
    log(f"control: status {out['status']['median']:.2f} s, stats {out['stats']['median']:.2f} s")
    return out


def kernel_floor(n, summary_line, reps):
    """What this machine's kernel alone takes for the maps and writes of that apply
    (bench/mapfloor.c): maps of xtc's kinds and sizes, the same number of entries and
    records, written in batches as xtc writes them, by a bare C loop."""
    m = re.search(r"(\d+) classifier entries", summary_line)
    if not m:
        return None
    entries = int(m.group(1))
    max_rules = max(65536, n + 1024)  # what rulegen.write_config sets
    hash_max = max(max_rules * 4, 2 * entries)  # what the plan sizes the rules hash to
    tool = build_tool("mapfloor")
    runs = [json.loads(sh([tool, str(entries), str(hash_max), str(n + 1),
                           str(max_rules)]).stdout) for _ in range(reps)]
    out = {k: summary([r[k] for r in runs]) for k in ("create_s", "insert_s", "records_s")}
    out["total_s"] = summary([r["create_s"] + r["insert_s"] + r["records_s"] for r in runs])
    out["entries"], out["records"] = entries, n + 1
    log(f"control: the kernel alone for {n:,} rules: {out['total_s']['median']:.2f} s "
        f"(maps {out['create_s']['median']:.2f}, {entries:,} entries "
        f"{out['insert_s']['median']:.2f}, records {out['records_s']['median']:.2f})")
    return out
