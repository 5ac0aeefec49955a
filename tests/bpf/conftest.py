# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The fixture every BPF_PROG_TEST_RUN module shares: the real objects, loaded once
per module by tests/bpf/xtc_testrun.c."""
import pytest

from testrun import Fixture


@pytest.fixture(scope="module")
def fx():
    f = Fixture()
    yield f
    f.close()
