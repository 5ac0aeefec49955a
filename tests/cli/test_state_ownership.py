# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A bpffs mounted with defaults is mode 1777, so anyone may create <bpffs>/xtc before
root does.  apply refuses a state directory (or one below it) that is not root's alone,
says how to fix it and changes nothing; status names it; once fixed, apply works."""
import json
import os
import pwd

import pytest

from lib import xtc_cli as X


def nobody():
    return pwd.getpwnam("nobody").pw_uid


@pytest.mark.parametrize("where,mode,owner", [
    ("", 0o777, "nobody"),          # made first by an unprivileged user
    ("", 0o700, "nobody"),          # theirs, even if closed
    ("", 0o770, "root"),            # ours, but group-writable
    ("links", 0o777, "root"),       # a directory below it
])
def test_state_dir_not_ours_alone_is_refused(env, where, mode, owner):
    a = env.pair()
    cfg = env.config({a.name: {"tc_ingress": "on"}},
                     [("web", {"proto": "tcp", "dst_port": "80", "action": "drop"})])
    assert oct(os.stat(env.bpffs.path).st_mode & 0o7777) == "0o1777", "bpffs default mode"
    path = os.path.join(env.state, where) if where else env.state
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    os.chown(path, nobody() if owner == "nobody" else 0, -1)

    r = env.xtc(cfg, "apply")
    assert r.returncode == X.EXIT_RUNTIME, r
    assert f"{path} is owned by uid" in r.stderr and "rm -r" in r.stderr, r.stderr
    assert "chmod go-w" in r.stderr and "1777" in r.stderr, r.stderr
    assert X.bare(a.name), X.kernel_view(a.name)          # nothing attached
    assert not os.path.exists(os.path.join(env.state, "maps", "xtc_rules"))

    st = env.xtc(cfg, "status", "--json")
    assert st.returncode == X.EXIT_DIFF
    kinds = [p["problem"] for p in json.loads(st.stdout)["problems"]]
    assert "state_dir_unsafe" in kinds, kinds
    assert env.xtc(cfg, "unload", "--all").returncode == X.EXIT_RUNTIME

    # The fix it names works.
    os.chown(path, 0, -1)
    os.chmod(path, 0o700)
    X.ok(env.xtc(cfg, "apply"))
    assert X.ok(env.xtc(cfg, "status")).returncode == 0


def test_a_symlink_in_place_of_the_state_dir_is_refused(env, tmp_path):
    a = env.pair()
    cfg = env.config({a.name: {}})
    os.symlink(str(tmp_path), env.state)
    r = env.xtc(cfg, "apply")
    assert r.returncode == X.EXIT_RUNTIME and "not a directory of ours" in r.stderr, r
    assert os.listdir(tmp_path) == []
    os.unlink(env.state)
