# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""One JSON vocabulary for every command: the same key means the same thing,
with the same type, wherever it appears; numbers are numbers and enums are
short fixed words.  Every document has "schema": 1, failures included."""
import json
import signal
import subprocess

import pytest

from lib import xtc_cli as X
from lib.netns import sh, unique

INT, STR, BOOL, OBJ, LIST = int, str, bool, dict, list


def enum(*words):
    return (STR, frozenset(words))


HOOKS = enum("xdp", "tc_ingress", "tc_egress")
VOCAB = {
    "schema": INT,
    # failures
    "error": OBJ, "message": STR, "file": STR, "line": INT,
    # things and their names
    "interface": STR, "ifindex": INT, "interfaces": LIST, "present": BOOL,
    "rule": STR, "rules": LIST, "position": INT, "generated": BOOL,
    "name": STR, "program_id": INT, "programs": LIST, "programs_total": INT,
    "state": STR, "config": STR, "loaded": BOOL, "last_apply_timestamp_seconds": INT,
    # counts
    "rule_count": INT, "interface_count": INT, "problem_count": INT, "match_shapes": INT,
    "classifier_entries": INT, "ipmap_entries": INT,
    "packets": INT, "bytes": INT, "seen": INT, "parse_errors": INT, "no_match": INT,
    "handoffs_sent": INT, "handoffs_received": INT, "redirects_ok": INT,
    "redirects_failed": INT, "dropped": INT, "other_programs": INT,
    "src_set_size": INT, "dst_set_size": INT, "src_port_set_size": INT,
    "dst_port_set_size": INT,
    "src_set_entries": LIST, "dst_set_entries": LIST, "src_port_set_entries": LIST,
    "dst_port_set_entries": LIST,
    # the kernel and the hooks
    "kernel": OBJ, "xdp_dispatcher_usable": BOOL, "tcx_available": BOOL,
    "xdp": OBJ, "tc_ingress": OBJ, "tc_egress": OBJ, "configured": BOOL, "attached": BOOL,
    "mode": enum("native", "skb"), "via": enum("dispatcher", "single"),
    "handoff": enum("on", "off (kernel refuses packet-data changes in dispatcher slots)"),
    "kind": enum("tcx", "cls_bpf"), "priority": INT, "prio": INT, "handle": INT,
    "chain_call_actions": LIST, "ours": BOOL, "hook": HOOKS,
    # problems, of status and of check
    "problems": LIST,
    "problem": enum("not_loaded", "pin_missing", "pin_foreign", "interface_missing",
                    "xdp_detached", "tc_ingress_detached", "tc_egress_detached"),
    "severity": enum("error", "warning"), "valid": BOOL,
    # a rule's matches and verdict, as the file says them
    "direction": enum("ingress", "egress"), "src": STR, "dst": STR, "proto": STR,
    "src_port": STR, "dst_port": STR, "action": enum("pass", "drop", "redirect"),
    "redirect": enum("plain", "neigh", "peer"), "target": STR, "target_ifindex": INT,
    # the daemon, in status
    "daemon": OBJ, "pid": INT, "started_timestamp_seconds": INT,
    "last_reload_timestamp_seconds": INT, "last_reload_ok": BOOL, "reconciles": INT,
    "repairs": INT, "failures": INT, "events": OBJ, "link": INT, "address": INT, "route": INT,
    "overflow": INT, "last_error": STR,
    # ipmap
    "ipmap": LIST, "prefix": STR, "origin": enum("address", "route", "static"),
    # apply
    "dry_run": BOOL, "result": enum("no_changes", "would_change", "applied", "failed"),
    "changes": LIST, "op": enum("+", "-", "~"),
    "object": enum("state", "interface", "xdp", "tc_ingress", "tc_egress", "rule",
                   "classifier", "ipmap", "setting"),
    "setting": STR,
    "detail": STR, "disruptive": BOOL,
    # version
    "version": STR, "libbpf": STR, "libxdp": STR, "bpf_build_id": STR, "kernel_release": STR,
    # explain
    "packet": STR, "live_program": BOOL, "verdict": enum("pass", "drop", "redirect"),
    "matched": BOOL, "fallback": BOOL, "counted": BOOL,
}
# What a list under a key holds: objects that name themselves with that key.
LISTS = {"interfaces": "interface", "rules": "rule", "programs": "name", "ipmap": "prefix",
         "changes": "op", "problems": "message"}
XDP_ACTIONS = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"}
# Lists of plain words rather than objects.
WORD_LISTS = {"chain_call_actions", "src_set_entries", "dst_set_entries",
              "src_port_set_entries", "dst_port_set_entries"}


def check(doc, where="$"):
    """Every key of doc, at any depth, against VOCAB; returns the keys seen."""
    seen = set()
    assert isinstance(doc, dict), where
    for key, val in doc.items():
        path = f"{where}.{key}"
        assert key in VOCAB, f"{path}: key not in the vocabulary"
        seen.add(key)
        want = VOCAB[key]
        typ, words = want if isinstance(want, tuple) else (want, None)
        # bool is an int in Python: keep them apart
        assert type(val) is typ, f"{path}: {type(val).__name__}, want {typ.__name__}: {val!r}"
        if words is not None:
            assert val in words, f"{path}: {val!r} is not one of {sorted(words)}"
        if typ is OBJ:
            seen |= check(val, path)
        elif key in WORD_LISTS:
            assert all(type(v) is str for v in val), f"{path}: {val}"
            if key == "chain_call_actions":
                assert set(val) <= XDP_ACTIONS, f"{path}: {val}"
        elif typ is LIST:
            for i, item in enumerate(val):
                assert isinstance(item, dict), f"{path}[{i}]: not an object"
                assert LISTS[key] in item, f"{path}[{i}]: no {LISTS[key]!r}: {item}"
                seen |= check(item, f"{path}[{i}]")
    return seen


def run_json(cfg, *args, rc=(0,)):
    r = X.xtc(cfg, *args, "--json")
    assert r.returncode in rc, r
    doc = json.loads(r.stdout)
    assert doc["schema"] == 1, r.stdout
    assert list(doc)[0] == "schema"
    return doc


def test_the_vocabulary_checker_can_fail():
    for bad in ({"schema": 1, "iface": "x"},                 # unknown key
                {"schema": 1, "ifindex": "3"},               # number as a string
                {"schema": 1, "attached": 1},                # bool as a number
                {"schema": 1, "mode": "Native mode"},        # prose for an enum
                {"schema": 1, "rules": [{"packets": 1}]}):   # a rule without its name
        with pytest.raises(AssertionError):
            check(bad)


def test_every_command_speaks_one_vocabulary(env, tmp_path):
    a, b = env.pair(), env.pair()
    rules = [("icmp-in", {"interface": a.name, "proto": "icmp", "action": "pass"}),
             ("web", {"proto": "tcp", "src": "10.77.0.0/16", "dst_port": "80-90",
                      "action": "drop"}),
             ("web-shadowed", {"proto": "tcp", "src": "10.77.1.0/24", "dst_port": "85",
                               "action": "pass"}),
             ("dns", {"proto": "udp", "src_port": "53", "action": "pass"}),
             ("blk", {"src": "@blocked", "proto": "udp", "dst_port": "@ports",
                      "action": "drop"}),
             ("fwd", {"interface": a.name, "dst": "10.9.9.0/24", "action": "redirect",
                      "redirect": "neigh", "target": b.name, "reverse": "yes"})]
    sets = "\n[set blocked]\n10.61.0.0/16\nfd00:61::/32\n\n[set ports]\n9000-9010\n"
    cfg = env.config({a.name: {"tc_ingress": "on"}, b.name: {"xdp": "off"}}, rules,
                     statics={"10.9.9.0/24": b.name})
    cls = env.config({a.name: {"tc_ingress": "on"}, b.name: {"xdp": "off"}}, rules,
                     glob={"tc_attach": "cls_bpf"}, statics={"10.9.9.0/24": b.name})
    for path in (cfg, cls):
        with open(path, "a") as f:
            f.write(sets)
    bad = tmp_path / "bad.ini"
    bad.write_text("[global]\nbpffs = /nowhere\n[rule r]\naction = dorp\n")
    docs = {}
    docs["status not loaded"] = run_json(env.base, "status", rc=(3,))
    docs["stats not loaded"] = run_json(env.base, "stats")
    docs["check"] = run_json(cfg, "check")
    docs["check invalid"] = run_json(bad, "check", rc=(2,))
    docs["apply dry run"] = run_json(cfg, "apply", "--dry-run", rc=(3,))
    docs["apply"] = run_json(cfg, "apply")
    docs["apply no changes"] = run_json(cfg, "apply", rc=(0,))
    docs["apply invalid"] = run_json(bad, "apply", rc=(2,))
    assert a.ping(2) == 2
    for cmd in ("status", "stats", "rules", "ipmap", "version"):
        docs[cmd] = run_json(cfg, cmd)
    docs["explain"] = run_json(cfg, "explain", a.name, "tcp", f"{a.peer_ip}:999", "->",
                               "10.9.9.9:80")
    docs["explain redirect"] = run_json(cfg, "explain", a.name, f"udp {a.peer_ip}:999 -> "
                                        "10.9.9.9:53")
    docs["explain egress"] = run_json(cfg, "explain", "--egress", b.name, "udp",
                                      "10.1.1.1:53", "->", "10.2.2.2:53", rc=(1,))
    docs["apply cls_bpf"] = run_json(cls, "apply")
    docs["status cls_bpf"] = run_json(cls, "status")
    sh(["ip", "link", "set", "dev", a.name, "xdpgeneric", "off"])
    docs["status with problems"] = run_json(cls, "status", rc=(3,))
    br = unique("xbr")
    sh(["ip", "link", "add", br, "type", "bridge"])
    try:
        refused = env.config({br: {"xdp_mode": "native"}})
        docs["apply refused"] = run_json(refused, "apply", rc=(1,))
    finally:
        sh(["ip", "link", "del", br], check=False)
    # status with a daemon beside it, whose last reload was refused.
    own = env.config({a.name: {"xdp": "off", "tc_ingress": "on"}},
                     [("d", {"proto": "udp", "dst_port": "9", "action": "drop"})])
    log = open(f"{own}.log", "w")
    daemon = subprocess.Popen([str(X.XTC), "-c", str(own), "daemon"], stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        X.eventually(lambda: "daemon: ready" in open(f"{own}.log").read(), what="the daemon")
        with open(own, "a") as f:
            f.write("[rule broken]\naction = maybe\n")
        daemon.send_signal(signal.SIGHUP)
        X.eventually(lambda: "has errors" in open(f"{own}.log").read(), what="the refusal")
        docs["status with a daemon"] = run_json(own, "status", rc=(0, 3))
    finally:
        daemon.terminate()
        daemon.wait(timeout=20)
        log.close()
    docs["usage error"] = json.loads(subprocess.run(
        [str(X.XTC), "stats", "--json", "--prometheus"], capture_output=True, text=True).stdout)

    seen = set()
    for what, doc in docs.items():
        try:
            seen |= check(doc)
        except AssertionError as e:
            raise AssertionError(f"{what}: {e}\n{json.dumps(doc)[:3000]}") from None
    # The failures say what went wrong, where the file is known.
    for what in ("check invalid", "apply invalid"):
        err = docs[what]["error"]
        assert (err["file"], err["line"]) == (str(bad), 4), err
        assert "dorp" in err["message"]
    assert "native" in docs["apply refused"]["error"]["message"]
    assert docs["apply refused"]["result"] == "failed"
    assert "error" in docs["usage error"] and "explain egress" in docs
    assert "no xtc program" in docs["explain egress"]["error"]["message"]
    # The same word for the same thing: the names a command prints are the keys above.
    assert {"interface", "rule", "rules", "interfaces", "program_id", "problems", "changes",
            "action", "hook", "prio", "handle", "verdict", "origin"} <= seen
    assert [p["severity"] for p in docs["check"]["problems"]] == ["warning"]
    assert docs["explain redirect"]["target"] == b.name
    # dst_set_size and src_port_set_size: no rule here needs them, and nothing else prints them.
    unused = set(VOCAB) - seen - {"dst_set_size", "dst_set_entries", "src_port_set_size",
                                  "src_port_set_entries", "setting"}
    assert not unused, f"vocabulary words no command printed: {sorted(unused)}"
