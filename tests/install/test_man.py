# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The man pages: mandoc -Tlint clean, and in step with the CLI and the config.

xtc(8) must document every command `xtc --help` lists and every option that
`xtc --help` and `xtc help COMMAND` print, and every exit status; xtc.ini(5)
every key of the key tables in userspace/config/config*.c, in the section it belongs
to.  A new option, command or key without its man entry fails here.
"""
import pathlib
import re

import pytest

from instlib import REPO, run

MAN8 = REPO / "docs/man/xtc.8"
MAN5 = REPO / "docs/man/xtc.ini.5"
SECTIONS = ["global", "interface", "rule", "set", "static"]
# Key tables in the C sources, and the [section] each one's keys belong to.
KEY_TABLE = re.compile(r"static const char \*const (\w+)_keys\[[^\]]*\] = \{([^}]*)\}")
TABLE_SECTION = {"global": "global", "iface": "interface", "interface": "interface",
                 "rule": "rule", "set": "set", "static": "static"}


def mdoc_sections(path, macro):
    """{title: [lines]} of the .Sh (or .Ss) parts of an mdoc page."""
    parts, title = {}, None
    for line in path.read_text().splitlines():
        if line.startswith(macro + " "):
            title = line[len(macro) + 1:].strip()
            parts[title] = []
        elif title is not None:
            parts[title].append(line)
    return parts


def tag_lines(lines):
    """The .It lines of a part, macros and all."""
    return [line for line in lines if line.startswith(".It ")]


def has_flag(items, flag):
    """Is FLAG (`-c` or `--config`) the tag of an .It, or one of its tags?"""
    if flag.startswith("--"):
        want = re.compile(r"\bFl Fl " + re.escape(flag[2:]) + r"(?![\w-])")
    else:
        want = re.compile(r"\bFl " + re.escape(flag[1:]) + r"(?![\w-])")
    return any(want.search(line) for line in items)


@pytest.fixture(scope="module")
def cli(xtc_bin):
    """{'commands': [...], 'texts': {cmd: help text}, 'usage': --help text}."""
    usage = run([xtc_bin, "--help"]).stdout
    block = usage.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    commands = [line.split()[0] for line in block.splitlines() if line.strip()]
    assert len(commands) >= 6, usage
    texts = {c: run([xtc_bin, "help", c]).stdout for c in commands}
    return {"commands": commands, "texts": texts, "usage": usage}


def cli_options(cli):
    text = cli["usage"] + "".join(cli["texts"].values())
    longs = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text))
    shorts = set(re.findall(r"^\s+(-[A-Za-z]), --", text, re.M))
    return longs, shorts


def test_mandoc_lint_prints_nothing(tmp_path, staged):
    """mandoc -Tlint, cross-references included, prints nothing for either page.

    mandoc checks every .Xr against /usr/share/man (a fixed path) and its
    mandoc.db, which Debian does not build.  So the lint runs in a private
    mount namespace whose /usr/share/man holds the pages as installed, the
    system's pages they refer to, and a mandoc.db made by makewhatis: the
    referenced pages must exist on this system, and nothing on it changes.
    """
    pages = [staged / "usr/local/share/man/man8/xtc.8",
             staged / "usr/local/share/man/man5/xtc.ini.5"]
    man = tmp_path / "man"
    for page in pages:
        (man / page.parent.name).mkdir(parents=True, exist_ok=True)
        run(["cp", page, man / page.parent.name])
    for page in pages:
        for name, sec in re.findall(r"^\.Xr (\S+) (\d)", page.read_text(), re.M):
            if name in ("xtc", "xtc.ini"):
                continue
            found = sorted(pathlib.Path(f"/usr/share/man/man{sec}").glob(f"{name}.{sec}*"))
            assert found, f"{page.name} refers to {name}({sec}), not installed here"
            (man / f"man{sec}").mkdir(exist_ok=True)
            run(["cp", found[0], man / f"man{sec}"])
    script = (f"mount --bind {man} /usr/share/man && makewhatis /usr/share/man && "
              + " && ".join(f"mandoc -Tlint /usr/share/man/{p.parent.name}/{p.name}"
                            for p in pages))
    r = run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
            check=False)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr


def test_mandoc_lint_warning_level_in_place():
    """Without the cross-references: the sources as they are in the tree."""
    for page in (MAN8, MAN5):
        r = run(["mandoc", "-Tlint", "-W", "warning", page], check=False)
        assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr


def test_every_command_is_in_xtc8(cli):
    commands = tag_lines(mdoc_sections(MAN8, ".Sh")["COMMANDS"])
    documented = {line.split()[2] for line in commands if line.startswith(".It Cm ")}
    missing = [c for c in cli["commands"] if c not in documented]
    assert not missing, f"commands without an .It Cm entry in COMMANDS of xtc.8: {missing}"
    # The spec's commands, whether or not this binary has them yet.
    for c in ["check", "apply", "status", "stats", "rules", "ipmap", "explain",
              "unload", "version", "help"]:
        assert c in documented, c


def test_every_option_is_in_xtc8(cli):
    longs, shorts = cli_options(cli)
    assert {"--config", "--help", "--json", "--verbose", "--version"} <= longs, longs
    assert {"-c", "-h", "-j", "-v", "-V"} <= shorts, shorts
    items = tag_lines(mdoc_sections(MAN8, ".Sh")["OPTIONS"])
    missing = sorted(f for f in longs | shorts if not has_flag(items, f))
    assert not missing, f"options without an .It entry in OPTIONS of xtc.8: {missing}"
    # Each command's own options are named in its entry under COMMANDS too.
    cmds = mdoc_sections(MAN8, ".Sh")["COMMANDS"]
    for c, text in cli["texts"].items():
        own = text.split("\nOptions:\n", 1)[1].split("\n\n")[0] if "\nOptions:\n" in text else ""
        entry = [line for line in tag_lines(cmds) if line.startswith(f".It Cm {c}")]
        assert entry, c
        for short, long in re.findall(r"^\s+(?:(-[A-Za-z]), )?\s*(--[a-z][a-z0-9-]*)", own, re.M):
            if long == "--json":   # a global option in the man page
                continue
            assert has_flag(entry, long) or (short and has_flag(entry, short)), \
                f"xtc.8: the .It of {c} names neither {short} nor {long}"


def test_every_exit_status_is_in_xtc8(cli):
    statuses = tag_lines(mdoc_sections(MAN8, ".Sh")["EXIT STATUS"])
    documented = {line.split()[1] for line in statuses}
    said = re.findall(r"(?:^|; |\n)(\d) [a-z]", cli["usage"].split("Exit status:", 1)[1])
    assert said, cli["usage"]
    assert set(said) | {"0", "1", "2", "3"} <= documented, documented


def test_xtc8_names_files_and_see_also():
    text = MAN8.read_text()
    for path in ["/etc/xtc/xtc.ini", "<bpffs>/xtc/maps/", "<bpffs>/xtc/progs/",
                 "<bpffs>/xtc/links/", "xtc.service"]:
        assert path in text, path
    see = "\n".join(mdoc_sections(MAN8, ".Sh")["SEE ALSO"])
    for ref in ["xtc.ini 5", "xdp-loader 8", "xdp-filter 8", "bpftool 8", "tc 8"]:
        assert f".Xr {ref}" in see, ref


def config_keys():
    """{section: [keys]} from the key tables of userspace/config/config*.c."""
    keys = {}
    for src in sorted((REPO / "userspace" / "config").glob("config*.c")):
        for table, body in KEY_TABLE.findall(src.read_text()):
            section = TABLE_SECTION.get(table, table)
            keys.setdefault(section, []).extend(re.findall(r'"([^"\\]+)"', body))
    return keys


def test_key_tables_are_found():
    keys = config_keys()
    assert {"global", "interface", "rule"} <= set(keys), keys
    assert "bpffs" in keys["global"] and "action" in keys["rule"], keys


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_is_in_xtcini5(section):
    subs = mdoc_sections(MAN5, ".Ss")
    assert f"The {section} section" in subs, sorted(subs)
    body = "\n".join(subs[f"The {section} section"])
    assert f".Cm [{section}" in body


def test_every_key_is_in_xtcini5():
    subs = mdoc_sections(MAN5, ".Ss")
    missing = []
    for section, keys in config_keys().items():
        title = f"The {section} section"
        items = tag_lines(subs.get(title, []))
        for key in keys:
            if not any(re.match(rf"\.It Cm {re.escape(key)}\b", line) for line in items):
                missing.append(f"[{section}] {key}")
    assert not missing, f"keys without an .It Cm entry in xtc.ini.5: {missing}"
    # The spec's keys, whether or not this tree's tables have them yet.
    assert any(line.startswith(".It Cm include ")
               for line in tag_lines(subs["The global section"]))


def test_default_config_lists_every_key_in_comments():
    text = (REPO / "configs/xtc.ini").read_text()
    for section, keys in config_keys().items():
        for key in keys:
            assert re.search(rf"^;\s*{re.escape(key)}\s*=", text, re.M), f"[{section}] {key}"
    assert re.search(r"^;\s*include\s*=", text, re.M)
    for section in ["interface", "rule", "set", "static"]:
        assert re.search(rf"^;\[{section}\b", text, re.M), section
