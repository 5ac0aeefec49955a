"""What the VM tests check on the host before booting a guest."""
import glob
import os
import shutil


def debian_kernels():
    """Installed kernels whose modules are there too (the guest loads them over 9p)."""
    kernels = []
    for path in glob.glob("/boot/vmlinuz-*"):
        ver = path[len("/boot/vmlinuz-"):]
        if os.path.isfile(os.path.join("/lib/modules", ver, "modules.dep")):
            kernels.append(ver)
    return kernels


def skip_reason():
    """Why the VM suite cannot run on this machine, or None."""
    if shutil.which("qemu-system-x86_64") is None:
        return "qemu-system-x86_64 not installed (package qemu-system-x86)"
    if not debian_kernels():
        return ("no Debian kernel: need /boot/vmlinuz-<v> with /lib/modules/<v> "
                "(package linux-image-amd64)")
    return None
