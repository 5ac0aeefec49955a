#!/bin/sh
# Guest side of the VM coexistence test; runs INSIDE the VM:
#   tests/vm/run-vm.sh tests/vm/guest-coexist.sh
# The cases live in guest_coexist.py (one Python process for all of them;
# see its docstring).  Needs build/xtc (make) and $XTC_VM_BUILD/xdp_coex.o
# from tests/vm/xdp_coex.bpf.c, both built on the host (test_vm_coexist.py
# does it).  Arguments, if any, are case names to run.
exec /usr/bin/python3 "$(dirname "$0")/guest_coexist.py" "$@"
