#!/usr/bin/env bash
# Runs the GPU checks on a machine with an NVIDIA GPU (CUDA >= 12.0 driver r525+, compute >= 8.0) and
# no Java: uses the bundle that gpu/bundle.sh built. Prints one line per check
# ("CHECK <name>: PASS|FAIL|SKIP <figures>") and a total; exit 0 all passed, 1 a check failed,
# 2 no usable GPU (the probe's reason is printed).
# Usage: gpu/check.sh [device-index] [--list|--long]   (--list: name the checks only; --long: add the
# 128k figures to the quick tier's checks and figures; env ICECACHE_MODELS_DIR overrides the bundled models)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ -d "$here/bundle/runtime" ]; then bundle="$here/bundle"; else bundle="$here"; fi
if [ ! -x "$bundle/runtime/bin/java" ]; then
  echo "GPU check: no bundle at $bundle; run gpu/bundle.sh on the build machine first" >&2
  exit 3
fi
device="${1:-0}"
models="${ICECACHE_MODELS_DIR:-$bundle/models}"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader | sed 's/^/GPU check: nvidia-smi: /'
else
  echo "GPU check: nvidia-smi not found"
fi
exec "$bundle/runtime/bin/java" -Xmx16g -ea --add-modules jdk.incubator.vector -XX:PerMethodTrapLimit=10000 \
  -Dicecache.gpu.device="$device" -Dicecache.models.dir="$models" \
  -cp "$bundle/test-classes:$bundle/lib/*" dev.icecache.gpu.GpuCheck "${@:2}"
