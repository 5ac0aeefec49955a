"""The XDP classifier and the TC classifier must agree on every packet.

Runs the whole fixture corpus, the truncation set and seeded random mutations
of both through each hook and compares verdict class and matched rule."""
import random

import pytest

from cases import CASES, cfg, rule, truncation_packets
from testrun import check_refused, verdict


def mutations(corpus, n, seed=1234):
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        b = bytearray(rnd.choice(corpus))
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(12, len(b))] = rnd.randrange(256)
        if rnd.random() < 0.3:
            b = b[:rnd.randint(14, len(b))]
        out.append(bytes(b))
    return out


def compare(fx, config, frames):
    ifi = fx.ifindex["a0"]
    lines = [f"{h} {ifi} {b.hex()}" for b in frames for h in ("xdp", "tc_ingress")]
    res = fx.run(config, lines)
    assert len(res) == 2 * len(frames)
    compared = 0
    for i in range(0, len(res), 2):
        x, t = res[i], res[i + 1]
        if "error" in t:
            check_refused(t, frames[i // 2])
            continue
        compared += 1
        assert verdict(x)[0] == verdict(t)[0], (frames[i // 2].hex(), x, t)
        assert list(x["rules"]) == list(t["rules"]), (frames[i // 2].hex(), x, t)
    return compared


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_corpus_agrees(fx, case):
    config, pkts = CASES[case]
    frames = [bytes(p) for p, _, _ in pkts]
    assert compare(fx, config, frames + mutations(frames, 40)) > 0


def test_truncation_and_mutations_agree(fx):
    frames = [b for _, b in truncation_packets()]
    corpus = [bytes(p) for _, pk in CASES.values() for p, _, _ in pk]
    config = cfg(rule("web", proto="tcp", dst_port="80-90", action="drop"),
                 rule("v6", src="2001:db8::/32", action="pass"),
                 rule("udp", proto="udp", action="redirect", redirect="plain", target="t0"))
    assert compare(fx, config, frames + mutations(corpus, 300, seed=99)) > 300
