#!/usr/bin/env bash
# Regenerates the PTX resources from the .cu sources beside this script (same base names).
#
# Targets the oldest ISA and virtual architecture the kernels need, so that one PTX loads on a wide
# range of drivers and cards: virtual architecture compute_80 (JIT-compiled by the driver for A100,
# A10/A30, L4/L40, RTX 30xx/40xx, H100/H200 and newer) and PTX ISA 8.0 (CUDA 12.0: drivers r525+).
# nvcc stamps its own ISA into the file (CUDA 13 writes 9.0, which only r580+ loads); the kernels
# use no instruction newer than ISA 7.0, so the stamp is lowered to $ISA and the result is checked
# with ptxas at that ISA before it replaces the committed file. GpuProbe's minimum driver and
# compute capability must match ARCH and ISA (KernelResourcesTest checks it).
# Needs nvcc and ptxas; without nvcc the committed PTX is used. Used by `mvn -Pptx ...` and by hand.
set -euo pipefail
ARCH=80
ISA=8.0
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../resources/dev/icecache/gpu/kernels"
nvcc_bin="${NVCC:-nvcc}"
if ! command -v "$nvcc_bin" >/dev/null 2>&1; then
  echo "build-ptx: nvcc not found; keeping the committed PTX in $out" >&2
  exit 0
fi
ptxas_bin="${PTXAS:-$(dirname "$(command -v "$nvcc_bin")")/ptxas}"
[ -x "$ptxas_bin" ] || ptxas_bin=ptxas
mkdir -p "$out"
for cu in "$here"/*.cu; do
  base="$(basename "$cu" .cu)"
  tmp="$(mktemp)"
  "$nvcc_bin" -ptx -arch=compute_$ARCH -o "$tmp" "$cu"
  sed -i -E "s/^\.version [0-9]+\.[0-9]+$/.version $ISA/" "$tmp"
  if ! "$ptxas_bin" -arch=sm_$ARCH -o /dev/null "$tmp"; then
    echo "build-ptx: $base.ptx does not assemble at PTX ISA $ISA for sm_$ARCH; a kernel uses a newer" \
         "instruction: raise ISA here and GpuProbe.MIN_DRIVER_VERSION together" >&2
    rm -f "$tmp"
    exit 1
  fi
  if ! cmp -s "$tmp" "$out/$base.ptx"; then
    mv "$tmp" "$out/$base.ptx"
    echo "build-ptx: wrote $base.ptx"
  else
    rm -f "$tmp"
  fi
done
