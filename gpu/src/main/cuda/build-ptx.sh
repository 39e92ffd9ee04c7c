#!/usr/bin/env bash
# Regenerates the PTX resources from the .cu sources beside this script (same base names).
# Needs nvcc (CUDA 13: PTX ISA 9.0, so the GPU machine needs a CUDA >= 13.0 driver, r580+).
# Used by `mvn -Pptx ...` and by hand; without nvcc the committed PTX is used.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../resources/dev/icecache/gpu/kernels"
nvcc_bin="${NVCC:-nvcc}"
if ! command -v "$nvcc_bin" >/dev/null 2>&1; then
  echo "build-ptx: nvcc not found; keeping the committed PTX in $out" >&2
  exit 0
fi
mkdir -p "$out"
for cu in "$here"/*.cu; do
  base="$(basename "$cu" .cu)"
  tmp="$(mktemp)"
  "$nvcc_bin" -ptx -arch=compute_90 -o "$tmp" "$cu"
  if ! cmp -s "$tmp" "$out/$base.ptx"; then
    mv "$tmp" "$out/$base.ptx"
    echo "build-ptx: wrote $base.ptx"
  else
    rm -f "$tmp"
  fi
done
