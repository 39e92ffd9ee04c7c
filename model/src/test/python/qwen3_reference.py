#!/usr/bin/env python3
"""An independent Qwen 3 forward pass in numpy (float64), the oracle of Qwen3OracleTest.

Written from the published Qwen3 definition (Hugging Face transformers' modeling_qwen3):
pre-norm decoder blocks with RMSNorm; attention with per-head RMSNorm of q and k (before RoPE),
rotate-half (NeoX) RoPE, grouped-query attention, causal softmax with scale 1/sqrt(head_dim);
a SwiGLU feed-forward down(silu(gate(x)) * up(x)); a final RMSNorm and the output matrix (the
token embedding when the file has no output.weight). It shares no code with the Java engine: it
parses the GGUF file itself and accepts F32 tensors only.

usage: qwen3_reference.py MODEL.gguf TOKENS OUT
  TOKENS: comma-separated token ids, fed one position at a time
  OUT:    written as float32 little-endian, one row of vocabulary logits per position
"""
import struct
import sys

import numpy as np

GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
GGML_F32 = 0


class Reader:
    def __init__(self, data):
        self.data = data
        self.at = 0

    def take(self, fmt):
        value = struct.unpack_from(fmt, self.data, self.at)[0]
        self.at += struct.calcsize(fmt)
        return value

    def string(self):
        n = self.take("<Q")
        text = self.data[self.at:self.at + n].decode("utf-8")
        self.at += n
        return text

    def value(self, kind):
        if kind == 8:
            return self.string()
        if kind == 9:
            item, count = self.take("<I"), self.take("<Q")
            return [self.value(item) for _ in range(count)]
        return self.take(GGUF_SCALARS[kind])


def read_gguf(path):
    with open(path, "rb") as f:
        data = f.read()
    r = Reader(data)
    if data[:4] != b"GGUF":
        raise SystemExit(f"{path}: not a GGUF file")
    r.at = 4
    version, n_tensors, n_kv = r.take("<I"), r.take("<Q"), r.take("<Q")
    if version < 2:
        raise SystemExit(f"{path}: GGUF version {version} is not supported")
    meta = {}
    for _ in range(n_kv):
        key = r.string()
        meta[key] = r.value(r.take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.take("<Q") for _ in range(r.take("<I"))]
        kind, offset = r.take("<I"), r.take("<Q")
        infos.append((name, dims, kind, offset))
    align = meta.get("general.alignment", 32)
    base = (r.at + align - 1) // align * align
    tensors = {}
    for name, dims, kind, offset in infos:
        if kind != GGML_F32:
            raise SystemExit(f"{name}: ggml type {kind} is not F32; this oracle reads F32 files only")
        count = int(np.prod(dims))
        flat = np.frombuffer(data, dtype="<f4", count=count, offset=base + offset).astype(np.float64)
        # ggml dims are fastest-first: a matrix of ne0 columns and ne1 rows
        tensors[name] = flat.reshape(list(reversed(dims))) if len(dims) > 1 else flat
    return meta, tensors


def rms_norm(x, weight, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rope(x, position, theta):
    """Rotate-half RoPE of x (heads, head_dim): pairs (i, i + head_dim/2)."""
    half = x.shape[-1] // 2
    freqs = theta ** (-np.arange(half, dtype=np.float64) * 2.0 / x.shape[-1])
    angle = position * freqs
    cos, sin = np.cos(angle), np.sin(angle)
    a, b = x[..., :half], x[..., half:]
    return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)


def silu(x):
    return x / (1.0 + np.exp(-x))


def forward(meta, t, tokens):
    arch = meta["general.architecture"]
    if arch != "qwen3":
        raise SystemExit(f"architecture {arch} is not qwen3")
    p = "qwen3."
    n_layers = meta[p + "block_count"]
    n_heads = meta[p + "attention.head_count"]
    n_kv = meta[p + "attention.head_count_kv"]
    dim = meta[p + "embedding_length"]
    head_dim = meta.get(p + "attention.key_length", dim // n_heads)
    eps = meta[p + "attention.layer_norm_rms_epsilon"]
    theta = meta.get(p + "rope.freq_base", 1e6)
    group = n_heads // n_kv
    output = t.get("output.weight", t["token_embd.weight"])
    keys = [[] for _ in range(n_layers)]
    values = [[] for _ in range(n_layers)]
    rows = []
    for pos, token in enumerate(tokens):
        x = t["token_embd.weight"][token].copy()
        for layer in range(n_layers):
            b = f"blk.{layer}."
            h = rms_norm(x, t[b + "attn_norm.weight"], eps)
            q = (t[b + "attn_q.weight"] @ h).reshape(n_heads, head_dim)
            k = (t[b + "attn_k.weight"] @ h).reshape(n_kv, head_dim)
            v = (t[b + "attn_v.weight"] @ h).reshape(n_kv, head_dim)
            q = rope(rms_norm(q, t[b + "attn_q_norm.weight"], eps), pos, theta)
            k = rope(rms_norm(k, t[b + "attn_k_norm.weight"], eps), pos, theta)
            keys[layer].append(k)
            values[layer].append(v)
            K = np.stack(keys[layer])    # (positions, kv heads, head_dim)
            V = np.stack(values[layer])
            out = np.empty((n_heads, head_dim))
            for head in range(n_heads):
                kv = head // group
                scores = K[:, kv, :] @ q[head] / np.sqrt(head_dim)
                weights = np.exp(scores - scores.max())
                weights /= weights.sum()
                out[head] = weights @ V[:, kv, :]
            x = x + t[b + "attn_output.weight"] @ out.reshape(-1)
            h = rms_norm(x, t[b + "ffn_norm.weight"], eps)
            x = x + t[b + "ffn_down.weight"] @ (silu(t[b + "ffn_gate.weight"] @ h) * (t[b + "ffn_up.weight"] @ h))
        rows.append(output @ rms_norm(x, t["output_norm.weight"], eps))
    return np.stack(rows)


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    meta, tensors = read_gguf(sys.argv[1])
    tokens = [int(s) for s in sys.argv[2].split(",")]
    forward(meta, tensors, tokens).astype("<f4").tofile(sys.argv[3])


if __name__ == "__main__":
    main()
