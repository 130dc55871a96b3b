#!/usr/bin/env python3
"""PyTorch side of `npm run bench -- finetune`: the same training step as the recalpaca engines.

A random-weight llama model with SmolLM2-135M's shape (30 layers, d 576, 9/3 heads, FFN 1536, vocabulary
49152, tied embeddings, RoPE base 100000, adjacent-pair rotation as llama.cpp's `llama` architecture), LoRA
r 16 / alpha 16 on q, k, v, o with dropout 0.05 (frozen base weights), one random sequence per step,
cross-entropy on the last 3/4 of the positions, forward + backward. Prints one JSON line per run:
{"mode", "threads", "seq", "tokensPerSecond", "torch"}.

Modes: fp32 (everything fp32), bf16 (frozen weights stored in bf16, LoRA in fp32, CPU autocast to bf16).
Run it with the Python that has torch (Debian: apt-get install python3-torch; /usr/bin/python3). Set
OMP_WAIT_POLICY=PASSIVE for 2 threads on a shared machine (the benchmark does).
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F

D, FF, VOCAB, LAYERS, HEADS, HEADS_KV = 576, 1536, 49152, 30, 9, 3
HD = D // HEADS
KV = HD * HEADS_KV
R, ALPHA, DROPOUT = 16, 16, 0.05


def rms_norm(x, g, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


def rope(x, cos, sin):
    # adjacent pairs (2j, 2j+1), as llama.cpp rotates the `llama` architecture
    t, h, d = x.shape
    xr = x.float().reshape(t, h, d // 2, 2)
    a, b = xr[..., 0], xr[..., 1]
    out = torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1)
    return out.reshape(t, h, d).to(x.dtype)


class Model:
    def __init__(self, weight_dtype):
        g = torch.Generator().manual_seed(1)
        rand = lambda *shape, s: (torch.randn(*shape, generator=g) * s).to(weight_dtype)
        self.emb = rand(VOCAB, D, s=0.02)
        self.layers = []
        for _ in range(LAYERS):
            self.layers.append(
                {
                    "attn_norm": torch.ones(D),
                    "q": rand(D, D, s=0.04),
                    "k": rand(KV, D, s=0.04),
                    "v": rand(KV, D, s=0.04),
                    "o": rand(D, D, s=0.04),
                    "ffn_norm": torch.ones(D),
                    "gate": rand(FF, D, s=0.04),
                    "up": rand(FF, D, s=0.04),
                    "down": rand(D, FF, s=0.025),
                }
            )
        self.out_norm = torch.ones(D)
        self.lora = []
        for layer in self.layers:
            pairs = {}
            for p in ("q", "k", "v", "o"):
                n_out, n_in = layer[p].shape
                bound = 1 / math.sqrt(n_in)
                a = ((torch.rand(R, n_in, generator=g) * 2 - 1) * bound).requires_grad_()
                b = torch.zeros(n_out, R, requires_grad=True)
                pairs[p] = (a, b)
            self.lora.append(pairs)

    def parameters(self):
        return [t for pairs in self.lora for ab in pairs.values() for t in ab]

    def linear(self, x, layer, pairs, p):
        y = x @ layer[p].t()
        if p in pairs:
            a, b = pairs[p]
            y = y + (F.dropout(x, DROPOUT, training=True) @ a.t() @ b.t()) * (ALPHA / R)
        return y

    def loss(self, tokens, targets, positions):
        t = tokens.shape[0]
        pos = torch.arange(t, dtype=torch.float32)
        inv = 100000.0 ** (-torch.arange(0, HD, 2, dtype=torch.float32) / HD)
        ang = pos[:, None] * inv[None, :]
        cos, sin = ang.cos()[:, None, :], ang.sin()[:, None, :]
        mask = torch.full((t, t), float("-inf")).triu(1)
        x = self.emb[tokens].float()
        for layer, pairs in zip(self.layers, self.lora):
            h = rms_norm(x, layer["attn_norm"])
            q = rope(self.linear(h, layer, pairs, "q").view(t, HEADS, HD), cos, sin)
            k = rope(self.linear(h, layer, pairs, "k").view(t, HEADS_KV, HD), cos, sin)
            v = self.linear(h, layer, pairs, "v").view(t, HEADS_KV, HD)
            k = k.repeat_interleave(HEADS // HEADS_KV, dim=1)
            v = v.repeat_interleave(HEADS // HEADS_KV, dim=1)
            s = torch.einsum("thd,shd->hts", q, k) / math.sqrt(HD) + mask
            att = torch.einsum("hts,shd->thd", s.softmax(-1), v).reshape(t, D)
            x = x + self.linear(att, layer, pairs, "o")
            h = rms_norm(x, layer["ffn_norm"])
            gate = self.linear(h, layer, pairs, "gate")
            up = self.linear(h, layer, pairs, "up")
            x = x + self.linear(F.silu(gate) * up, layer, pairs, "down")
        xn = rms_norm(x, self.out_norm)[positions]
        logits = xn @ self.emb.t()
        return F.cross_entropy(logits.float(), targets)


def blas_library():
    """The BLAS library this process loaded (Debian's torch uses whichever libblas.so.3 is selected:
    the reference BLAS is ~20x slower than OpenBLAS, apt-get install libopenblas0-pthread)."""
    try:
        with open("/proc/self/maps") as maps:
            text = maps.read()
    except OSError:
        return "unknown"
    for name in ("openblas", "mkl", "blis"):
        if name in text:
            return name
    return "reference BLAS" if "libblas" in text else "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--mode", choices=["fp32", "bf16"], required=True)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--warm", type=int, default=1)
    ap.add_argument("--timed", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bf16 = args.mode == "bf16"
    model = Model(torch.bfloat16 if bf16 else torch.float32)
    g = torch.Generator().manual_seed(2)
    rates = []
    for i in range(args.warm + args.timed):
        tokens = torch.randint(0, VOCAB, (args.seq,), generator=g)
        positions = torch.arange(args.seq // 4, args.seq - 1)
        targets = tokens[positions + 1]
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model.loss(tokens, targets, positions)
        loss.backward()
        dt = time.perf_counter() - t0
        for p in model.parameters():
            p.grad = None
        if i >= args.warm:
            rates.append(args.seq / dt)
    row = {
        "mode": args.mode,
        "threads": args.threads,
        "seq": args.seq,
        "tokensPerSecond": statistics.median(rates),
        "torch": torch.__version__,
        "blas": blas_library(),
    }
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
