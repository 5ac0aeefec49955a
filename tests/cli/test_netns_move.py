# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""An interface that moves to another network namespace (a CNI moving a pod's veth) is
gone from xtc's host: the next apply, or the daemon at once, forgets it, and its TCX
links go with their pins, so no program of ours keeps running in the pod's namespace."""
import json

from lib import xtc_cli as X
from lib.netns import Netns, sh, unique


def tcx_links(prog_id):
    """The TCX links (type 11; bpftool 7.1 has no name for it) that run prog_id, wherever
    their device is."""
    links = json.loads(sh(["bpftool", "-j", "link", "show"]).stdout)
    return [lk["id"] for lk in links if lk.get("type") in ("tcx", 11)
            and lk.get("prog_id") == prog_id]


def test_moved_interface_keeps_no_program_of_ours(env):
    name = unique("xmv")
    pod = Netns("xmvpod")
    try:
        sh(["ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"])
        sh(["ip", "link", "set", name, "up"])
        cfg = env.config({"xmv*": {}}, [("drop-9", {"proto": "udp", "dst_port": "9",
                                                    "action": "drop"})], glob={"xdp": None})
        X.ok(env.xtc(cfg, "apply"))
        st = X.iface_status(json.loads(X.ok(env.xtc(cfg, "status", "--json")).stdout), name)
        ours = st["tc_ingress"]["program_id"]
        assert X.tcx_progs(name) == [ours]
        both = tcx_links(ours)                     # the pair's two ends match xmv*
        assert len(both) == 2, both
        sh(["ip", "link", "set", name, "netns", pod.name])
        assert pod.ifindex(name) and tcx_links(ours) == both   # the link went along
        r = X.ok(env.xtc(cfg, "apply"))
        assert f"- interface {name} (gone from the host)" in r.stdout, r.stdout
        left = tcx_links(ours)
        assert len(left) == 1 and left[0] in both, \
            f"{left}: our TC program still runs in the pod's namespace"
        assert X.tcx_progs(name + "p") == [ours]
        st = json.loads(X.ok(env.xtc(cfg, "status", "--json")).stdout)
        assert name not in [i["interface"] for i in st["interfaces"]]
    finally:
        pod.close()
        sh(["ip", "link", "del", name], check=False)
