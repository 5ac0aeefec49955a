# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""xdp = auto, the default: XDP on devices with native XDP that are not virtual, TC
alone on veth and other virtual devices; xdp = on / off force the choice.  status
shows the setting and, for auto, the reason."""
import json
import re

import pytest

from lib import xtc_cli as X
from lib.netns import sh, unique

DROP_PING = ("no-ping", {"proto": "icmp", "action": "drop"})


def status_of(env, cfg, dev):
    return X.iface_status(json.loads(X.ok(env.xtc(cfg, "status", "--json")).stdout), dev)


def test_default_on_a_veth_is_tc_alone(env):
    a = env.pair()
    assert a.ping(2) == 2
    # No xdp key anywhere: the default is auto.
    cfg = env.config({a.name: {}}, [DROP_PING], glob={"xdp": None})
    text = open(cfg).read()
    assert not re.search(r"^xdp\s*=", text, re.M), text
    X.ok(env.xtc(cfg, "apply"))
    st = status_of(env, cfg, a.name)
    assert st["xdp"]["configured"] is False and st["xdp"]["attached"] is False, st
    assert st["xdp"]["setting"] == "auto"
    assert st["xdp"]["reason"].startswith("veth: XDP there copies every packet"), st
    assert X.xdp_prog(a.name) is None
    assert st["tc_ingress"]["attached"] is True
    # TC alone carries out the drop rule, and counts it.
    assert a.ping(2) == 0
    stats = json.loads(X.ok(env.xtc(cfg, "stats", "--json")).stdout)
    assert [r["packets"] for r in stats["rules"] if r["rule"] == "no-ping"] == [2]
    text_status = X.ok(env.xtc(cfg, "status")).stdout
    assert "setting: auto" in text_status and "reason: veth: " in text_status


def test_xdp_on_and_off_force_the_choice(env):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: {"xdp": "on"}, b.name: {"xdp": "off"}}, [DROP_PING],
                     glob={"xdp": "auto"})
    X.ok(env.xtc(cfg, "apply"))
    sa, sb = status_of(env, cfg, a.name), status_of(env, cfg, b.name)
    assert sa["xdp"]["attached"] is True and sa["xdp"]["setting"] == "on", sa
    assert "reason" not in sa["xdp"]
    assert X.xdp_prog(a.name)[1] == "xtc_xdp"
    assert sb["xdp"]["attached"] is False and sb["xdp"]["setting"] == "off", sb
    assert a.ping(1) == 0 and b.ping(1) == 0


def test_global_setting_is_every_interfaces_default(env):
    a = env.pair()
    cfg = env.config({a.name: {}}, [DROP_PING], glob={"xdp": "on"})
    X.ok(env.xtc(cfg, "apply"))
    assert status_of(env, cfg, a.name)["xdp"]["setting"] == "on"
    assert X.xdp_prog(a.name) is not None


def test_other_virtual_devices_are_tc_alone(env):
    dev = unique("xbr")
    sh(["ip", "link", "add", dev, "type", "bridge"])
    try:
        sh(["ip", "link", "set", dev, "up"])
        cfg = env.config({dev: {}}, [DROP_PING], glob={"xdp": "auto"})
        X.ok(env.xtc(cfg, "apply"))
        st = status_of(env, cfg, dev)
        assert st["xdp"]["attached"] is False and st["xdp"]["setting"] == "auto"
        assert st["xdp"]["reason"].startswith("virtual device: TC alone"), st
        assert st["tc_ingress"]["attached"] is True
    finally:
        X.xtc(env.base, "unload", dev)
        sh(["ip", "link", "del", dev], check=False)


def test_from_xdp_to_auto_on_a_veth_keeps_dropping(env):
    """An upgrade whose default turns XDP off on a veth: TC attaches before XDP goes."""
    a = env.pair()
    on = env.config({a.name: {"xdp": "on"}}, [DROP_PING])
    X.ok(env.xtc(on, "apply"))
    assert X.xdp_prog(a.name) is not None and a.ping(1) == 0
    auto = env.config({a.name: {"xdp": "auto"}}, [DROP_PING])
    r = X.ok(env.xtc(auto, "-v", "apply"))
    out = r.stdout + r.stderr
    # Attach before detach, in the order xtc -v logs the steps.
    assert out.index(f"{a.name}: TC ingress attached") < \
        out.index(f"{a.name}: XDP: detached our program"), out
    assert X.xdp_prog(a.name) is None and a.ping(2) == 0
    stats = json.loads(X.ok(env.xtc(auto, "stats", "--json")).stdout)
    assert [r["packets"] for r in stats["rules"] if r["rule"] == "no-ping"] == [3]
    # And again: nothing to do.
    assert "no changes" in X.ok(env.xtc(auto, "apply")).stdout
    # And back: XDP attaches before TC ingress, which only redirects needed, leaves.
    r = X.ok(env.xtc(on, "-v", "apply"))
    out = r.stdout + r.stderr
    assert out.index(f"{a.name}: XDP attached") < out.index("failpoint tcx_detach"), out
    assert X.xdp_prog(a.name) is not None and a.ping(1) == 0


def native_device():
    """A device with its own driver and native XDP, from the kernel's netdev family."""
    out = sh(["ip", "-d", "-j", "link", "show"]).stdout
    for link in json.loads(out):
        if link.get("link_type") != "ether" or "linkinfo" in link:
            continue
        r = sh(["ethtool", "-i", link["ifname"]], check=False)
        if r.returncode == 0 and "driver:" in r.stdout:
            return link["ifname"]
    return None


def test_auto_chooses_xdp_on_a_device_with_native_xdp(env, tmp_path):
    """Only planned (--dry-run): the host's own NIC is never touched by the tests."""
    dev = native_device()
    if dev is None:
        pytest.skip("no physical Ethernet device on this machine")
    cfg = X.write_config(str(tmp_path / "nic.ini"), env.bpffs.path, {dev: {"xdp": "auto"}},
                         [DROP_PING], glob={"xdp": None})
    r = env.xtc(cfg, "apply", "--dry-run")
    assert r.returncode == 3, r.stdout + r.stderr
    assert re.search(rf"^\+ xdp {dev}\b", r.stdout, re.M), r.stdout
    assert X.xdp_prog(dev) is None


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_bad_value_names_the_line_and_the_words(env, value):
    a = env.pair()
    cfg = env.config({a.name: {"xdp": value}}, [DROP_PING])
    r = env.xtc(cfg, "check")
    assert r.returncode == 2
    line = open(cfg).read().splitlines().index(f"xdp = {value}") + 1
    assert f"{cfg}:{line}:" in r.stderr and "use on, off or auto" in r.stderr, r.stderr
