# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Bash completion as installed: commands, options, interfaces, files.

bash runs the completion function the way readline would: COMP_LINE,
COMP_POINT and COMP_WORDS split at bash's default COMP_WORDBREAKS.
"""
import re
import shlex

import pytest

from instlib import run

BREAKS = "\"'><=;|&(:"


def bash_words(line):
    """COMP_WORDS as bash makes them: blanks separate, break characters are
    words of their own (a run of them is one word)."""
    words = re.findall(r"[%s]+|[^\s%s]+" % (re.escape(BREAKS), re.escape(BREAKS)), line)
    if not line or line[-1].isspace():
        words.append("")
    return words


@pytest.fixture(scope="module")
def complete(staged):
    script = staged / "usr/local/share/bash-completion/completions/xtc"

    def complete(line):
        words = bash_words(line)
        prog = (f". {shlex.quote(str(script))}\n"
                f"COMP_LINE={shlex.quote(line)}; COMP_POINT={len(line)}\n"
                f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
                f"COMP_CWORD={len(words) - 1}\n"
                "$(complete -p xtc | sed 's/.*-F \\([^ ]*\\) .*/\\1/') xtc\n"
                "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
        r = run(["bash", "--norc", "--noprofile", "-c", prog])
        return [w for w in r.stdout.splitlines() if w]
    return complete


def test_commands(complete):
    assert complete("xtc ") == ["check", "apply", "status", "stats", "rules", "ipmap",
                                "explain", "unload", "daemon", "version", "help"]
    assert complete("xtc st") == ["status", "stats"]
    assert complete("xtc -v -c x.ini ap") == ["apply"]
    assert complete("xtc help un") == ["unload"]


def test_options_per_command(complete):
    glob = ["-c", "--config", "-j", "--json", "-v", "--verbose", "-h", "--help",
            "-V", "--version"]
    assert complete("xtc -") == glob
    assert complete("xtc apply -") == glob + ["-n", "--dry-run", "--strict"]
    assert complete("xtc check --s") == ["--strict"]
    assert complete("xtc stats --p") == ["--prometheus"]
    assert "-o" in complete("xtc stats -p -")
    assert complete("xtc unload --a") == ["--all"]
    assert complete("xtc explain --e") == ["--egress"]
    assert complete("xtc daemon --u") == ["--unload-on-exit"]
    assert complete("xtc status --s") == []


def test_interfaces_for_unload_and_explain(complete):
    assert "lo" in complete("xtc unload ")
    assert complete("xtc unload l") == ["lo"]
    assert complete("xtc explain l") == ["lo"]
    assert complete("xtc status ") == []


def test_explain_packet(complete):
    assert complete("xtc explain lo ") == ["tcp", "udp", "icmp", "tcp6", "udp6", "icmp6"]
    assert complete("xtc explain lo udp") == ["udp", "udp6"]
    assert complete("xtc explain lo tcp 10.0.0.1:4000 ") == ["->"]
    assert complete("xtc explain --egress lo tcp 10.0.0.1:4000 -") == ["->"]
    assert complete("xtc explain lo tcp 10.0.0.1:4000 -> ") == []


def test_files_for_config_and_output(complete, tmp_path):
    (tmp_path / "lab.ini").write_text("")
    (tmp_path / "lab.prom").write_text("")
    base = f"{tmp_path}/lab"
    assert sorted(complete(f"xtc -c {base}")) == [f"{base}.ini", f"{base}.prom"]
    assert complete(f"xtc check --config {base}.i") == [f"{base}.ini"]
    assert complete(f"xtc --config={base}.i") == [f"{base}.ini"]
    assert complete(f"xtc stats -p -o {base}.p") == [f"{base}.prom"]
    assert complete(f"xtc stats -p --output={base}.p") == [f"{base}.prom"]
