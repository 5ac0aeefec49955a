#!/usr/bin/python3
"""xtc benchmarks: `make bench` (full) and `make bench-quick` (--quick).

Runs every section, prints a table, and writes docs/bench/RESULTS.md (or
RESULTS-quick.md), results.json and the PNG plots.  Benchmarks report; they
never fail on a number.  A section that breaks is reported as such and the
others still run.  Every figure is the median of the repetitions with min
and max; every ratio is taken between numbers measured in this same run."""
import argparse
import json
import os
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import control  # noqa: E402
import daemon  # noqa: E402
import datapath  # noqa: E402
import droprate  # noqa: E402
import redirect  # noqa: E402
import reload  # noqa: E402
import report  # noqa: E402
import scaling  # noqa: E402

# apply_budget_s bounds one size's apply-from-nothing series (1M rules take
# minutes each): a series that would overrun it stops early and says so.
FULL = dict(reps=5, control_reps=5, redirect_reps=7, repeat=1_000_000,
            control_sizes=[10, 1000, 100_000, 1_000_000], diff_size=100_000, apply_budget_s=600,
            dst32_sizes=[10, 1000, 10_000], rr_secs=2, bulk_secs=2, drop_secs=2,
            reload_generations=100, reload_pps=10_000)
QUICK = dict(reps=5, control_reps=3, redirect_reps=3, repeat=1_000_000,
             control_sizes=[10, 1000, 100_000], diff_size=100_000, apply_budget_s=20,
             dst32_sizes=[10, 1000, 10_000], rr_secs=1, bulk_secs=1, drop_secs=0.5,
             redirect_methods=6,
             reload_generations=20, reload_pps=5_000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes and durations (< 3 min)")
    ap.add_argument("--only", help="comma-separated sections: datapath,control,redirect,drop,reload,daemon")
    ap.add_argument("--out", default=os.path.join(common.ROOT, "docs", "bench"))
    ap.add_argument("--from-json", metavar="RESULTS_JSON",
                    help="measure nothing: rewrite the table, RESULTS.md and plots of that run")
    a = ap.parse_args()
    if a.from_json:
        with open(a.from_json) as f:
            res = json.load(f)
        write(res, a.out, "-quick" if res["params"].get("quick") else "")
        return
    ctx = dict(QUICK if a.quick else FULL)
    if a.quick:
        ctx["quick"] = True
    only = set(a.only.split(",")) if a.only else None
    if not os.access(common.XTC, os.X_OK):
        sys.exit(f"{common.XTC} not found: run make first")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.time()
    res = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
           "command": "make bench-quick" if a.quick else "make bench",
           "argv": " ".join(sys.argv), "machine": common.machine(), "params": ctx,
           "load_before": os.getloadavg(), "versions": versions(), "errors": {}}
    ctx["dir"] = common.workdir()
    if not only or "datapath" in only:
        # The worst case of the verdict cache (bench/datapath.py): built once per run.
        try:
            ctx["xtc_cold"] = common.build_variant("build-cold", "-DXTC_VCACHE_COLD")
        except Exception as e:
            res["errors"]["xtc_cold"] = f"{type(e).__name__}: {e}"
    sections = [
        ("datapath", "1. datapath", lambda: datapath.run(ctx)),
        ("control", "2+3. scaling and control plane", lambda: run_control(ctx)),
        ("redirect", "4. redirect", lambda: redirect.run(dict(ctx, reps=ctx["redirect_reps"]))),
        ("drop", "5. drop rate", lambda: droprate.run(ctx)),
        ("reload", "6. hitless reload", lambda: reload.run(ctx)),
        ("daemon", "7. the daemon", lambda: daemon.run(ctx)),
    ]
    try:
        for key, title, fn in sections:
            if only and key not in only:
                continue
            print(f"== {title}", flush=True)
            t0 = time.time()
            try:
                out = fn()
                if key == "control":
                    res["control"], res["scaling"] = out
                else:
                    res[key] = out
            except Exception as e:
                res["errors"][key] = f"{type(e).__name__}: {e}"
                traceback.print_exc()
            res.setdefault("section_s", {})[key] = time.time() - t0
    finally:
        common.cleanup()
    res["wall_s"] = time.time() - started
    res["load_after"] = os.getloadavg()
    os.makedirs(a.out, exist_ok=True)
    suffix = "-quick" if a.quick else ""
    with open(os.path.join(a.out, f"results{suffix}.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    write(res, a.out, suffix)


def write(res, out, suffix):
    os.makedirs(out, exist_ok=True)
    plots = report.plots(res, out, suffix)
    text = report.table(res)
    print(text)
    with open(os.path.join(out, f"RESULTS{suffix}.md"), "w") as f:
        f.write(report.markdown(res, text, plots))
    print(f"\nwrote {os.path.join(out, f'RESULTS{suffix}.md')} ({res['wall_s']:.0f} s in all)")


def run_control(ctx):
    ctx = dict(ctx, reps=ctx["control_reps"])
    sc = scaling.Scaling(ctx)
    c = control.run(ctx, on_loaded=sc.on_loaded)
    sc.run_dst32()
    return c, sc.result()


def versions():
    v = {"xtc": common.tool_version([common.XTC, "version"]),
         "xdp-tools (Debian)": common.tool_version(["dpkg-query", "-W", "-f", "${Version}",
                                                    "xdp-tools"]),
         "nft": common.tool_version(["nft", "--version"]),
         "sockperf": common.tool_version(["sockperf", "--version"]),
         "iperf3": common.tool_version(["iperf3", "--version"]),
         "tree": common.tool_version(["git", "-C", common.ROOT, "describe", "--always", "--dirty"])}
    return v


if __name__ == "__main__":
    main()
