# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A daemon's SIGHUP patches the model in place when the edits stay inside [rule]
sections that keep their names, interface, direction, action and target: only those
rules are read and compiled again.  Whatever a patch cannot take is read whole, as
before.  Either way the kernel ends as `xtc apply` of the file would leave it: after
the daemon stops, apply finds nothing to change.  Also: rule records in maps made
before they were mmapable (an older xtc's state) are still read."""
import os
import random
import signal

from lib import xtc_cli as X
from test_daemon import Daemon, daemons, verdict  # noqa: F401 (fixture)

PATCHED = "rule(s) changed in place"
WHOLE = "edits outside what a patch takes: reading it whole"


def write(path, text):
    """As an editor saves: the daemon never reads half a file."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def rule(name, port, action="drop", extra=""):
    return f"\n[rule {name}]\nproto = tcp\ndst_port = {port}\naction = {action}\n{extra}"


def main_file(env, tag, body):
    return (f"[global]\nbpffs = {env.bpffs.path}\nxdp = off\nmax_rules = 256\n"
            f"include = rules.d/*.ini\n\n[interface {tag}*]\ntc_ingress = on\n{body}")


def hup(d, word, n):
    """SIGHUP, then waits for the n-th line with word (each reload says one)."""
    d.send(signal.SIGHUP)
    X.eventually(lambda: d.log().count(word) >= n, what=f"reload {n}: {word}")


def pkt(port):
    return f"tcp 10.1.1.1:4000 -> 10.2.2.2:{port}"


def converged(cfg, d):
    """The daemon stops (the datapath stays); apply of the file then changes nothing."""
    assert d.stop() == 0, d.log()
    r = X.ok(X.xtc(cfg, "apply"))
    assert r.stdout.strip() == "no changes", r.stdout + d.log()


def line_of(path, text):
    with open(path) as f:
        return next(i for i, ln in enumerate(f, 1) if ln.strip() == text)


def test_sighup_patches_edited_rules_in_place(env, daemons, tmp_path):
    tag = f"xq{os.getpid() % 1000}"
    (tmp_path / "rules.d").mkdir()
    cfg, inc = str(tmp_path / "main.ini"), str(tmp_path / "rules.d" / "a.ini")
    write(cfg, main_file(env, tag, rule("web", 8080)))
    inc_rules = [rule("api", 7000), rule("after", 7100), rule("api-again", 7000, "pass")]
    write(inc, "".join(inc_rules))
    d = Daemon(cfg)
    daemons.append(d)
    a = env.pair(name=f"{tag}a")
    X.eventually(lambda: verdict(cfg, a.name, pkt(8080)) == "drop", what="web enforced")
    # Said at load, with its line: the patch must keep lines right after it.
    said = f"{inc}:{line_of(inc, '[rule api-again]')}: warning: [rule api-again] can never match"
    assert said in d.log(), d.log()

    # One rule edited, a line longer: patched, enforced, and the warning below it moves.
    inc_rules[1] = rule("after", 7101, extra="; moved from 7100\n")
    write(inc, "".join(inc_rules))
    hup(d, PATCHED, 1)
    assert "1 rule(s) changed in place" in d.log(), d.log()
    X.eventually(lambda: verdict(cfg, a.name, pkt(7101)) == "drop", what="the edited rule")
    assert verdict(cfg, a.name, pkt(7100)) == "pass"
    said = f"{inc}:{line_of(inc, '[rule api-again]')}: warning: [rule api-again] can never match"
    X.eventually(lambda: said in d.log(), what="the warning at its new line")

    # Rules in two files at once.
    write(cfg, main_file(env, tag, rule("web", 8081)))
    inc_rules[0] = rule("api", 7001)
    write(inc, "".join(inc_rules))
    hup(d, PATCHED, 2)
    assert "2 rule(s) changed in place" in d.log(), d.log()
    X.eventually(lambda: verdict(cfg, a.name, pkt(8081)) == "drop", what="web moved")
    assert [verdict(cfg, a.name, pkt(p)) for p in (8080, 7000, 7001)] == ["pass", "pass", "drop"]
    assert WHOLE not in d.log(), d.log()
    converged(cfg, d)


def web_and_api(env, daemons, tmp_path, tag):
    """A daemon on [rule web] in the main file and [rule api] in an include file, with a
    veth it enforces web on: (main file, include file, daemon, veth)."""
    (tmp_path / "rules.d").mkdir()
    cfg, inc = str(tmp_path / "main.ini"), str(tmp_path / "rules.d" / "a.ini")
    write(cfg, main_file(env, tag, rule("web", 8080)))
    write(inc, rule("api", 7000))
    d = Daemon(cfg)
    daemons.append(d)
    a = env.pair(name=f"{tag}a")
    X.eventually(lambda: verdict(cfg, a.name, pkt(8080)) == "drop", what="web enforced")
    return cfg, inc, d, a


def test_patched_reload_repairs_damage_first_seen_by_it(env, daemons, tmp_path):
    """A patch writes the rules from a look at the rule tables alone, and a full pass
    follows: a pin removed by hand since (no event says so) stops the quick pass, and
    the full one repairs it and writes the rules."""
    tag = f"xt{os.getpid() % 1000}"
    cfg, inc, d, a = web_and_api(env, daemons, tmp_path, tag)
    for n, pin in enumerate(["maps/xtc_rule_info", "progs/tc_ingress"], 1):
        os.unlink(os.path.join(env.state, pin))
        write(inc, rule("api", 7000 + n))
        hup(d, PATCHED, n)
        X.eventually(lambda: verdict(cfg, a.name, pkt(7000 + n)) == "drop",
                     what=f"the edit, {pin} gone")
        X.eventually(lambda: os.path.exists(os.path.join(env.state, pin)), what=f"{pin} back")
    converged(cfg, d)


def test_sighup_with_a_link_event_pending(env, daemons, tmp_path):
    """A pod that comes as the file is edited: the SIGHUP still patches the rules, and
    the look that the link event made due follows with the new interface in it, at
    once rather than at the next resync."""
    tag = f"xl{os.getpid() % 1000}"
    cfg, inc, d, a = web_and_api(env, daemons, tmp_path, tag)
    for n in range(1, 4):
        b = env.pair(name=f"{tag}b{n}")
        write(inc, rule("api", 7000 + n))
        hup(d, PATCHED, n)
        X.eventually(lambda: verdict(cfg, b.name, pkt(7000 + n)) == "drop", timeout=3,
                     what=f"{b.name} enforces the edit")
        assert verdict(cfg, a.name, pkt(7000 + n)) == "drop"
    assert WHOLE not in d.log(), d.log()
    converged(cfg, d)


def test_sighup_reads_whole_what_a_patch_cannot_take(env, daemons, tmp_path):
    tag = f"xr{os.getpid() % 1000}"
    cfg, inc, d, a = web_and_api(env, daemons, tmp_path, tag)
    edits = [
        # another action: what the hooks depend on
        (main_file(env, tag, rule("web", 8080, "pass")), None, 8080, "pass"),
        # a new rule: ids and priorities move
        (None, rule("api", 7000) + rule("extra", 6000), 6000, "drop"),
        # a new shape: a range where a port was
        (None, rule("api", "7000-7003") + rule("extra", 6000), 7003, "drop"),
        # an interface section
        (main_file(env, tag, rule("web", 8080, "pass")).replace(
            "tc_ingress = on", "tc_ingress = on\ntc_egress = on"), None, 6000, "drop"),
    ]
    for n, (main, rules, port, want) in enumerate(edits, 1):
        if main:
            write(cfg, main)
        if rules:
            write(inc, rules)
        hup(d, WHOLE, n)
        X.eventually(lambda: verdict(cfg, a.name, pkt(port)) == want, what=f"edit {n}")
    # An error in an edited rule: refused as check refuses it, what runs stays.
    write(inc, rule("api", 70000) + rule("extra", 6000))
    d.send(signal.SIGHUP)
    X.eventually(lambda: "has errors: kept what runs now" in d.log(), what="the refusal")
    assert "70000" in d.log() and f"{inc}:" in d.log(), d.log()
    assert verdict(cfg, a.name, pkt(7003)) == "drop"
    assert PATCHED not in d.log(), d.log()
    write(inc, rule("api", "7000-7003") + rule("extra", 6000))
    converged(cfg, d)


def test_patched_reloads_match_apply(env, daemons, tmp_path):
    """Random edits of ports (and of lines inside rules), a few rules at a time in
    two files: every reload is a patch, and the kernel ends as apply would make it."""
    rng = random.Random(os.getpid())
    tag = f"xs{os.getpid() % 1000}"
    (tmp_path / "rules.d").mkdir()
    cfg, inc = str(tmp_path / "main.ini"), str(tmp_path / "rules.d" / "a.ini")
    ports = {f"m{i}": 1000 + i for i in range(10)}
    ports.update({f"i{i}": 2000 + i for i in range(40)})
    notes = {name: "" for name in ports}

    def save():
        body = "".join(rule(n, ports[n], extra=notes[n]) for n in ports if n[0] == "m")
        write(cfg, main_file(env, tag, body))
        write(inc, "".join(rule(n, ports[n], extra=notes[n]) for n in ports if n[0] == "i"))

    save()
    d = Daemon(cfg)
    daemons.append(d)
    a = env.pair(name=f"{tag}a")
    X.eventually(lambda: verdict(cfg, a.name, pkt(1000)) == "drop", what="enforced")
    taken = set(ports.values())
    for n in range(1, 21):
        for name in rng.sample(sorted(ports), rng.randint(1, 3)):
            taken.discard(ports[name])
            ports[name] = rng.choice(sorted(set(range(3000, 3200)) - taken))
            taken.add(ports[name])
            notes[name] = rng.choice(["", "; a note\n", "; two\n; notes\n"])
        save()
        hup(d, PATCHED, n)
    assert WHOLE not in d.log(), d.log()
    for name in rng.sample(sorted(ports), 8):
        assert verdict(cfg, a.name, pkt(ports[name])) == "drop", name
    converged(cfg, d)


def test_rule_records_of_an_older_xtc_are_read(env, tmp_path):
    """State made while the rule records' maps were not mmapable: read through the
    syscall instead, with the same answers."""
    old = X.variant_binary("unmapped")
    a = env.pair()
    rules = [(f"r{i}", {"proto": "tcp", "dst_port": str(5000 + i), "action": "drop"})
             for i in range(20)]
    cfg = env.config({a.name: {"tc_ingress": "on"}}, rules)
    X.ok(env.xtc(cfg, "apply", binary=old))
    # This xtc's programs replace the older ones; the maps (and their records) stay.
    r = X.ok(env.xtc(cfg, "apply"))
    assert "maps and counters are kept" in r.stdout, r.stdout
    for name in ("xtc_rule_info", "xtc_rule_digest"):
        info = X.sh(["bpftool", "-j", "map", "show", "pinned",
                     os.path.join(env.state, "maps", name)]).stdout
        assert '"flags":0' in info.replace(" ", ""), info
    assert X.ok(env.xtc(cfg, "apply")).stdout.strip() == "no changes"
    stats = X.stats_json(cfg)
    assert {r["rule"] for r in stats["rules"]} >= {"r0", "r19"}, stats
    rules[3] = ("r3", {"proto": "tcp", "dst_port": "6003", "action": "drop"})
    cfg = env.config({a.name: {"tc_ingress": "on"}}, rules)
    X.ok(env.xtc(cfg, "apply"))
    assert verdict(cfg, a.name, pkt(6003)) == "drop" and verdict(cfg, a.name, pkt(5003)) == "pass"
    assert X.ok(env.xtc(cfg, "apply")).stdout.strip() == "no changes"
