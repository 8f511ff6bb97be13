#!/usr/bin/env python3
"""Independent reference for lvs_rng: splitmix64 seeding, then xoshiro256** (Blackman and
Vigna). Prints the first outputs for a few seeds; the values are pasted into test_base.c."""
M = (1 << 64) - 1

def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)

def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M

def xoshiro(seed, n):
    s, st = [], seed
    for _ in range(4):
        st, v = splitmix64(st)
        s.append(v)
    out = []
    for _ in range(n):
        r = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        out.append(r)
    return out

for seed in (0, 42, 0xFFFFFFFFFFFFFFFF):
    print(seed, ", ".join("0x%016xull" % v for v in xoshiro(seed, 4)))
