# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Bounded input: what `xtc check` refuses to read, and how fast.

A wrong -c (a device, a FIFO, a huge log) must fail at once with a clear
message and without growing memory; include files obey the same limits plus
a total one.  Sparse files stand in for big ones."""
import os
import pathlib
import resource
import subprocess
import time


ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
XTC = pathlib.Path(os.environ.get("XTC_BIN", ROOT / "build" / "xtc")).absolute()
MIB = 1 << 20


def check(path, *args, timeout=10, cwd=None):
    assert XTC.exists(), f"{XTC} is missing: run make"
    return subprocess.run([str(XTC), "-c", str(path), "check", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


# Address space for one check of a small file, with room to spare (it needs about 8 MiB):
# reading a file into memory whole, or /dev/zero without end, cannot fit in it.
SMALL_AS = 32 * MIB


def check_small(path, timeout=10):
    """Runs check with its address space limited to SMALL_AS; returns (result, seconds)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (SMALL_AS, SMALL_AS))

    t0 = time.monotonic()
    r = subprocess.run([str(XTC), "-c", str(path), "check"], capture_output=True, text=True,
                       timeout=timeout, preexec_fn=limit)
    return r, time.monotonic() - t0


def test_small_address_space_is_enough(tmp_path):
    path = tmp_path / "tiny.ini"
    path.write_text("[rule a]\naction = pass\n")
    r, _ = check_small(path)
    assert r.stderr == ""
    assert r.returncode == 0


def test_dev_zero_fails_fast_in_little_memory():
    r, secs = check_small("/dev/zero")
    assert r.stderr == ("xtc: /dev/zero: is a character device, not a regular file; give the "
                        "path of an INI file\n")
    assert r.returncode == 2
    assert secs < 1.0


def test_fifo_without_writer_does_not_hang(tmp_path):
    fifo = tmp_path / "cfg.fifo"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    r = check(fifo, timeout=5)
    assert r.returncode == 2
    assert r.stderr == f"xtc: {fifo}: is a FIFO, not a regular file; give the path of an INI file\n"
    assert time.monotonic() - t0 < 2


def test_line_over_64k(tmp_path):
    path = tmp_path / "long.ini"
    path.write_text("[rule a]\nsrc = " + "1" * (64 * 1024) + "\naction = pass\n"
                    "; " + "x" * (64 * 1024 - 2) + "\nproto = bogus\n")
    r = check(path)
    assert r.returncode == 2
    # The long line is dropped; reading goes on with the right line numbers, and a
    # comment of exactly 64 KiB is still a line.
    assert r.stderr == (f"xtc: {path}:2: line is longer than 64 KiB\n"
                        f"xtc: {path}:5: bad value 'bogus' for proto: use tcp, udp, icmp, icmpv6, "
                        f"any or a protocol number 0-255\n")


def test_last_line_over_64k_without_newline(tmp_path):
    path = tmp_path / "long.ini"
    path.write_text("[rule a]\naction = pass\n; " + "x" * (200 * 1024))
    r = check(path)
    assert r.returncode == 2
    assert r.stderr == f"xtc: {path}:3: line is longer than 64 KiB\n"


def test_file_over_64m(tmp_path):
    path = tmp_path / "big.ini"
    with open(path, "w") as f:
        f.truncate(65 * MIB)
    t0 = time.monotonic()
    r = check(path)
    assert r.returncode == 2
    assert r.stderr == (f"xtc: {path}: is {65 * MIB} bytes; xtc reads config files up to "
                        f"64 MiB\n")
    assert time.monotonic() - t0 < 1


def test_file_of_64m_is_read(tmp_path):
    """The limit is inclusive; a file of exactly 64 MiB is read (here: lines of comments)."""
    path = tmp_path / "edge.ini"
    line = b";" + b"c" * 1022 + b"\n"
    with open(path, "wb") as f:
        f.write(b"[rule a]\naction = pass\n")
        f.write(line * ((64 * MIB - f.tell()) // len(line)))
        f.write(b";" * (64 * MIB - f.tell()))
    assert path.stat().st_size == 64 * MIB
    r = check(path, timeout=60)
    assert r.stderr == ""
    assert r.returncode == 0


def write_main(tmp_path, glob, body=""):
    main = tmp_path / "main.ini"
    main.write_text(f"[global]\ninclude = {glob}\n{body}")
    return main


def test_include_over_64m(tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    (d / "a.ini").write_text("[rule a]\naction = pass\n")
    with open(d / "b.ini", "w") as f:
        f.truncate(64 * MIB + 1)
    r = check(write_main(tmp_path, "conf.d/*.ini"))
    assert r.returncode == 2
    assert r.stderr == (f"xtc: {d / 'b.ini'}: is {64 * MIB + 1} bytes; xtc reads config files "
                        f"up to 64 MiB\n")


def test_includes_over_256m_in_all(tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    for i in range(5):      # 60 MiB each of NUL bytes: no newline, one long line each
        with open(d / f"{i}.ini", "w") as f:
            f.truncate(60 * MIB)
    main = write_main(tmp_path, "conf.d/*.ini")
    before = main.stat().st_size + 4 * 60 * MIB
    r = check(main, timeout=60)
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert lines[-1] == (f"xtc: {d / '4.ini'}: brings the configuration to {before + 60 * MIB} "
                         f"bytes; xtc reads up to 256 MiB in all, the main file and its include "
                         f"files together")
    assert lines[:-1] == [f"xtc: {d / f'{i}.ini'}:1: line is longer than 64 KiB" for i in range(4)]


def test_include_fifo_and_device_refused(tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    os.mkfifo(d / "a.ini")
    os.symlink("/dev/zero", d / "b.ini")
    t0 = time.monotonic()
    r = check(write_main(tmp_path, "conf.d/*.ini"), timeout=5)
    assert r.returncode == 2
    assert r.stderr == (
        f"xtc: {d / 'a.ini'}: is a FIFO, not a regular file; give the path of an INI file\n"
        f"xtc: {d / 'b.ini'}: is a character device, not a regular file; give the path of an "
        f"INI file\n")
    assert time.monotonic() - t0 < 2


def test_include_matching_too_many_files(tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    for i in range(4097):
        (d / f"{i:05}.ini").write_text("")
    r = check(write_main(tmp_path, "conf.d/*.ini"))
    assert r.returncode == 2
    assert r.stderr == (f"xtc: {tmp_path / 'main.ini'}:2: include = conf.d/*.ini matches 4097 "
                        f"files; xtc reads at most 4096\n")


def test_include_is_relative_to_the_main_file(tmp_path):
    """Not to the working directory; and a glob that also matches the main file skips it."""
    d = tmp_path / "etc"
    d.mkdir()
    main = d / "xtc.ini"
    main.write_text("[global]\ninclude = *.ini\n[rule main]\nsrc = @hosts\naction = drop\n")
    (d / "sets.ini").write_text("[set hosts]\n192.0.2.1\n")
    r = check(main, cwd="/")
    assert r.stderr == ""
    assert r.returncode == 0
    assert r.stdout == f"{main}: OK: 0 interface(s), 1 rule(s)\n"


def test_include_directory_name_with_glob_characters(tmp_path):
    """The main file's directory is taken literally, whatever characters it holds."""
    d = tmp_path / "odd[1]*"
    (d / "conf.d").mkdir(parents=True)
    main = d / "main.ini"
    main.write_text("[global]\ninclude = conf.d/*.ini\n[rule a]\nsrc = @s\naction = drop\n")
    (d / "conf.d" / "s.ini").write_text("[set s]\n10.0.0.0/8\n")
    r = check(main)
    assert r.stderr == ""
    assert r.returncode == 0


def test_memory_is_bounded_by_the_line_not_the_file(tmp_path):
    """A 60 MiB file of one line is read in the memory a small file needs."""
    path = tmp_path / "oneline.ini"
    with open(path, "wb") as f:
        f.write(b"[rule a]\naction = pass\n;")
        for _ in range(60):
            f.write(b"x" * MIB)
    r, _ = check_small(path)
    assert r.stderr == f"xtc: {path}:3: line is longer than 64 KiB\n"
    assert r.returncode == 2


def test_proc_files_are_read_by_content():
    """A file under /proc says size 0 but has content: read like any other text."""
    r = check("/proc/self/mountinfo")
    assert r.returncode == 2
    assert r.stderr.startswith("xtc: /proc/self/mountinfo:1: syntax error")


def run_xtc(path, *args, timeout=5):
    return subprocess.run([str(XTC), "-c", str(path), *args], capture_output=True, text=True,
                          timeout=timeout)


def test_every_command_reads_the_file_the_same_way(tmp_path):
    """status, stats and unload read only [global] bpffs, with the same limits and case rules."""
    fifo = tmp_path / "cfg.fifo"
    os.mkfifo(fifo)
    for cmd in (["status"], ["stats"], ["unload", "--all"]):
        for path, what in (("/dev/zero", "character device"), (fifo, "FIFO")):
            r = run_xtc(path, *cmd)
            assert r.returncode == 2, (cmd, r)
            assert r.stderr == (f"xtc: {path}: is a {what}, not a regular file; give the path "
                                f"of an INI file\n")
    upper = tmp_path / "upper.ini"
    gone = tmp_path / "no-bpffs-here"
    upper.write_text(f"[GLOBAL]\nBPFFS = {gone}\n[interface nosuch0]\n")
    r = run_xtc(upper, "status")
    assert r.returncode == 1
    assert f"mount -t bpf bpf {gone}" in r.stderr
