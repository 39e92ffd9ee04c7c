#!/usr/bin/env bash
# Builds gpu/bundle/ (git-ignored): everything gpu/check.sh needs on a machine with an NVIDIA GPU
# and no Java or Maven: a jlink'ed Java 17 runtime with jdk.incubator.vector, the gpu module's
# classes and test classes, their jars, and the small shared models. Must stay under 60 MiB.
# Usage: gpu/bundle.sh            (from anywhere; builds with Maven from the warm local repository)
set -euo pipefail
gpu="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$gpu/.." && pwd)"
out="$gpu/bundle"
models="${ICECACHE_MODELS_DIR:-$root/../shared/models}"
limit_mib=60

cd "$root"
# package (not install): jars of kvcache/model/gpu under their target/, plus the gpu test classpath;
# the operators module for the decoder's DocumentSession check (its jar and that one test class: no Flink)
mvn -B -q -pl gpu,operators -am package dependency:build-classpath -DskipTests \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/bundle-classpath.txt

rm -rf "$out"
mkdir -p "$out/lib" "$out/models"
cp -r "$gpu/target/test-classes" "$out/test-classes"
cp "$gpu"/target/icecache-gpu-*.jar "$out/lib/"
ops="$root/operators/target"
cp "$(ls "$ops"/icecache-operators-*.jar | grep -v -- '-tests.jar' | head -1)" "$out/lib/"
for c in operators/decode/GpuDocumentSessionTest operators/TestModels; do
  mkdir -p "$out/test-classes/dev/icecache/$(dirname "$c")"
  cp "$ops/test-classes/dev/icecache/$c"*.class "$out/test-classes/dev/icecache/$(dirname "$c")/"
done
tr ":" "\n" < "$gpu/target/bundle-classpath.txt" | while read -r entry || [ -n "$entry" ]; do
  [ -z "$entry" ] && continue
  case "$entry" in
    */target/classes) jar=$(ls "${entry%/classes}"/*.jar | grep -v -- '-tests.jar' | head -1); cp "$jar" "$out/lib/" ;;
    # model's test-jar: TestModels, the shared model lookup the GPU checks use
    */target/test-classes) cp "$(ls "${entry%/test-classes}"/*-tests.jar | head -1)" "$out/lib/" ;;
    *.jar) cp "$entry" "$out/lib/" ;;
    *) echo "bundle: skipping classpath entry $entry" >&2 ;;
  esac
done

# the runtime: only the modules the checks use (jdk.zipfs: JUnit scans jars through the zip file system)
jlink --add-modules java.base,java.logging,java.management,jdk.unsupported,jdk.zipfs,jdk.incubator.vector \
      --strip-debug --no-header-files --no-man-pages --compress=2 --output "$out/runtime"

for m in stories260K; do
  if [ -d "$models/$m" ]; then cp -r "$models/$m" "$out/models/$m"; chmod -R u+w "$out/models/$m"; fi
done
cp "$gpu/check.sh" "$out/check.sh"

size_mib=$(( $(du -sk "$out" | cut -f1) / 1024 ))
echo "bundle: $out is ${size_mib} MiB (runtime $(( $(du -sk "$out/runtime" | cut -f1) / 1024 )) MiB, jars $(( $(du -sk "$out/lib" | cut -f1) / 1024 )) MiB)"
if [ "$size_mib" -ge "$limit_mib" ]; then
  echo "bundle: over the ${limit_mib} MiB limit" >&2
  exit 1
fi
