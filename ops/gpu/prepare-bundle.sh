#!/usr/bin/env bash
# Prepares, on a machine with a JDK 17 and Maven, the bundle that ops/gpu/device-check.sh needs on a CUDA machine
# that has Python's torch but no JVM and no network. The bundle is one archive, OUT/toedit-device-bundle.tar.xz
# (xz: the JVM and the natives shrink by a third), plus OUT/BUNDLE.txt; the archive holds
#
#   jre/            a jlink Java 17 runtime (the modules the app and the tests use; its include/ holds jni.h)
#   app/            toedit-streams.jar and only the dependency jars that bench, synth-model and the golden
#                   tests load (no rocksdb, no Kafka broker, no pytorch-native-cpu, no pytorch-jni; the
#                   tokenizers and JNA jars keep their linux-x86-64 natives only)
#   test/           the test classes as a jar and the JUnit Platform Console Standalone jar
#   djl-src/        DJL's JNI sources (engines/pytorch/pytorch-native and api/src/main/native at v0.36.0,
#                   ops/gpu/djl-*.patch applied) with the JNI header that `javac -h` makes from PyTorchLibrary.java,
#                   so that libdjl_torch.so can be built there against that machine's own libtorch
#   BUNDLE.txt      what is in it: versions, the DJL commit, sizes (also beside the archive)
#
# The bundle goes into a git-ignored folder of the repo (default target/device-bundle), so that the device
# tool can carry it beside the working tree (64 MiB in all). This script never talks to the device.
#
# Usage: ops/gpu/prepare-bundle.sh [--out DIR] [--djl-git GITDIR | --djl-src DIR] [--skip-build]
#   --djl-git GITDIR  a git directory of deepjavalibrary/djl holding the tag v0.36.0 (e.g. a bare mirror)
#   --djl-src DIR     a checkout of deepjavalibrary/djl at v0.36.0
#   (neither: `git clone --depth 1 --branch v0.36.0 https://github.com/deepjavalibrary/djl` into target/)
#   --skip-build      use target/toedit-streams.jar, target/lib and target/test-classes as they are
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)

OUT=target/device-bundle
DJL_GIT=""
DJL_SRC=""
BUILD=1
DJL_TAG=v0.36.0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --djl-git) DJL_GIT=$2; shift 2 ;;
    --djl-src) DJL_SRC=$2; shift 2 ;;
    --skip-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "prepare-bundle: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "prepare-bundle: $*" >&2; exit 1; }
step() { echo "== $*"; }

for tool in java javac jlink jar mvn git zip unzip bc xz; do
  command -v "$tool" >/dev/null || die "needs '$tool' on the PATH (a JDK 17 and Maven)"
done
JAVA_MAJOR=$(javac -version 2>&1 | sed -E 's/^javac ([0-9]+).*/\1/')
[[ "$JAVA_MAJOR" == 17 ]] || die "needs JDK 17 (jdk.incubator.foreign is Java 17's); javac is $(javac -version 2>&1)"

# Versions from the pom, so that the bundle follows it.
pom_prop() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" pom.xml | head -1; }
DJL_VERSION=$(pom_prop djl.version)
JUNIT_VERSION=$(pom_prop junit.version)
JUNIT_PLATFORM_VERSION="1.${JUNIT_VERSION#5.}"             # JUnit Jupiter 5.x.y ships with Platform 1.x.y
[[ "$DJL_VERSION" == "${DJL_TAG#v}" ]] || die "pom.xml has djl.version $DJL_VERSION; this script builds the JNI of $DJL_TAG"

if [[ $BUILD == 1 ]]; then
  step "mvn -o package (tests skipped, test classes compiled)"
  mvn -B -q -o -DskipTests package || die "the Maven build failed"
fi
[[ -f target/toedit-streams.jar && -d target/lib && -d target/test-classes/io ]] \
  || die "target/toedit-streams.jar, target/lib or target/test-classes missing: run without --skip-build"

rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
git check-ignore -q "$OUT" || echo "prepare-bundle: WARNING: $OUT is not git-ignored; the device tool carries only ignored paths" >&2
DEST=$OUT
OUT=$DEST/stage            # the archive's contents; removed once packed
mkdir -p "$OUT"/app/lib "$OUT"/test

step "jlink runtime"
# java.sql: DJL's and Jackson's optional types; java.naming: log4j; java.desktop: log4j-core's LoggerContext
# (java.beans; its AWT natives are left out); jdk.management: the launcher's and bench's CPU time and memory size
# (com.sun.management); the two incubator modules: the launcher adds them (datasketches-memory, the simd kernel).
# --compress=0 and stored jars below: xz packs the whole bundle better than zip does each part.
MODULES=java.base,java.logging,java.management,java.naming,java.sql,java.xml,java.desktop,jdk.unsupported
MODULES=$MODULES,jdk.management,jdk.incubator.vector,jdk.incubator.foreign
AWT='**/libawt*.so,**/libmlib_image.so,**/libfontmanager.so,**/libjavajpeg.so,**/liblcms.so,**/libsplashscreen.so'
AWT=$AWT,'**/libjsound.so,**/libfreetype.so'
jlink --add-modules "$MODULES" --strip-debug --no-man-pages --compress=0 --exclude-files="$AWT" \
  --output "$OUT/jre" 2>&1 | grep -v "WARNING: Using incubator modules" || true
[[ -x "$OUT/jre/bin/java" && -f "$OUT/jre/include/jni.h" && -f "$OUT/jre/include/linux/jni_md.h" ]] \
  || die "jlink made no runtime with include/jni.h"
if command -v strip >/dev/null; then
  strip --strip-unneeded "$OUT/jre/lib/server/libjvm.so"      # about 4 MB of symbols the JVM does not need
fi

step "app jar and the dependency jars bench, synth-model and the golden tests load"
cp target/toedit-streams.jar "$OUT/app/"
# Found by running bench, synth-model and the golden tests on the bundle (device-check.sh --dry-run-cpu);
# kafka-clients only because picocli builds the whole command tree (a Serializer in a signature). Everything else
# in target/lib (Kafka Streams, rocksdb, Avro, DataSketches, the CPU libtorch jar, pytorch-jni, ...) stays behind:
# the jar's manifest Class-Path names them all, and the JVM skips the missing ones.
DEPS=(
  "api-$DJL_VERSION" "pytorch-engine-$DJL_VERSION" "tokenizers-$DJL_VERSION" gson- jna-[0-9]
  jackson-core- jackson-databind- jackson-annotations- picocli- slf4j-api- log4j-api- log4j-core- log4j-slf4j2-impl-
  kafka-clients-
)
for prefix in "${DEPS[@]}"; do
  found=0
  for jar in target/lib/$prefix*.jar; do
    [[ -f "$jar" ]] || continue
    found=1
    cp "$jar" "$OUT/app/lib/"
  done
  [[ $found == 1 ]] || die "no target/lib/$prefix*.jar (the dependency list above is out of date)"
done

# Keep only the linux-x86-64 natives of the multi-platform jars (the device is x86-64 Linux).
thin_jar() {
  local jar=$OUT/app/lib/$1 keep=$2
  unzip -Z1 "$jar" | grep -E '\.(so|dll|dylib|jnilib|a)$' | grep -v -- "$keep" > "$OUT/drop.txt" || true
  [[ -s "$OUT/drop.txt" ]] && zip -q -d "$jar" -@ < "$OUT/drop.txt"
  rm -f "$OUT/drop.txt"
  [[ $(unzip -Z1 "$jar" | grep -c -- "$keep") -gt 0 ]] || die "$1: no native left under '$keep'"
}
thin_jar "tokenizers-$DJL_VERSION.jar" "native/lib/linux-x86_64/"
thin_jar "$(basename "$(ls "$OUT"/app/lib/jna-[0-9]*.jar)")" "com/sun/jna/linux-x86-64/"

# Rewrites a jar with its entries stored, not deflated (xz then compresses the classes and natives far better).
store_jar() {
  local jar=$1 tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && unzip -q "$jar" && rm -f "$jar" && zip -q -X -0 -r "$jar" .) || die "could not repack $jar"
  rm -rf "$tmp"
}

step "test classes and the JUnit console launcher $JUNIT_PLATFORM_VERSION"
(cd target/test-classes && jar --create --no-compress --file "$OUT/test/toedit-tests.jar" io META-INF)
CONSOLE=org.junit.platform:junit-platform-console-standalone:$JUNIT_PLATFORM_VERSION
mvn -B -q -o dependency:copy -Dartifact="$CONSOLE" -DoutputDirectory="$OUT/test" 2>/dev/null \
  || mvn -B -q dependency:copy -Dartifact="$CONSOLE" -DoutputDirectory="$OUT/test" \
  || die "could not get $CONSOLE from the local repository or Maven Central"

for jar in "$OUT"/app/*.jar "$OUT"/app/lib/*.jar "$OUT"/test/junit-platform-console-standalone-*.jar; do
  store_jar "$jar"
done

step "DJL $DJL_TAG JNI sources"
DJL_PATHS=(engines/pytorch/pytorch-native api/src/main/native
  engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java)
mkdir -p "$OUT/djl-src"
if [[ -n "$DJL_GIT" ]]; then
  DJL_COMMIT=$(git --git-dir="$DJL_GIT" rev-parse "$DJL_TAG^{commit}") || die "$DJL_GIT has no tag $DJL_TAG"
  git --git-dir="$DJL_GIT" archive "$DJL_COMMIT" "${DJL_PATHS[@]}" | tar -x -C "$OUT/djl-src"
else
  if [[ -z "$DJL_SRC" ]]; then
    DJL_SRC=target/djl-$DJL_TAG
    [[ -d "$DJL_SRC/.git" ]] || git clone -q --depth 1 --branch "$DJL_TAG" https://github.com/deepjavalibrary/djl "$DJL_SRC" \
      || die "could not clone DJL $DJL_TAG; pass --djl-git or --djl-src"
  fi
  DJL_COMMIT=$(git -C "$DJL_SRC" rev-parse HEAD 2>/dev/null || echo unknown)
  for p in "${DJL_PATHS[@]}"; do
    mkdir -p "$OUT/djl-src/$(dirname "$p")"
    cp -r "$DJL_SRC/$p" "$OUT/djl-src/$p"
  done
fi
NATIVE="$OUT/djl-src/engines/pytorch/pytorch-native"
[[ -f "$NATIVE/CMakeLists.txt" && -f "$OUT/djl-src/api/src/main/native/djl/utils.h" ]] || die "DJL sources incomplete"
rm -rf "$NATIVE/src/main/java" "$NATIVE/src/main/resources" "$NATIVE"/gradlew "$NATIVE"/*.kts "$NATIVE"/*.cmd
for patch in ops/gpu/djl-*.patch; do
  [[ -f "$patch" ]] || continue
  echo "applying $patch"
  (cd "$OUT/djl-src" && patch -p1 --forward --quiet) < "$patch" || die "$patch does not apply to DJL $DJL_TAG"
done
# The JNI header, as DJL's build.sh makes it (its CMakeLists.txt includes build/include)
JCLS=$(mktemp -d)
javac -h "$NATIVE/build/include" -d "$JCLS" \
  "$OUT/djl-src/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java"
rm -rf "$JCLS"
[[ -f "$NATIVE/build/include/ai_djl_pytorch_jni_PyTorchLibrary.h" ]] || die "javac -h made no JNI header"

step "BUNDLE.txt and the archive"
{
  echo "toedit device bundle, made $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (+ local changes)')"
  echo "java: $(java -version 2>&1 | head -1); modules: $MODULES"
  echo "djl: $DJL_VERSION, sources $DJL_TAG = $DJL_COMMIT"
  echo "junit platform console: $JUNIT_PLATFORM_VERSION"
  echo "app/lib:"; (cd "$OUT/app/lib" && ls -1)
  echo "unpacked sizes (bytes):"; du -sb "$OUT"/* | sed "s:$OUT/::"
} > "$OUT/BUNDLE.txt"
tar -C "$OUT" -cf - . | xz -T0 -9 > "$DEST/toedit-device-bundle.tar.xz"
mv "$OUT/BUNDLE.txt" "$DEST/BUNDLE.txt"
rm -rf "$OUT"
OUT=$DEST

BUNDLE_BYTES=$(du -sb "$OUT" | cut -f1)
# what travels besides the carried bundle: tracked files and untracked ones that git does not ignore
TREE_BYTES=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 -r du -cb 2>/dev/null \
  | awk '$2 == "total" {s += $1} END {print s + 0}')
TOTAL=$((BUNDLE_BYTES + TREE_BYTES))
printf 'bundle %s: %.1f MiB; working tree %.1f MiB; together %.1f MiB of the 64 MiB a device call carries\n' \
  "${OUT#"$REPO"/}" "$(echo "$BUNDLE_BYTES / 1048576" | bc -l)" "$(echo "$TREE_BYTES / 1048576" | bc -l)" \
  "$(echo "$TOTAL / 1048576" | bc -l)" | tee -a "$OUT/BUNDLE.txt"
[[ $TOTAL -lt $((60 * 1048576)) ]] || die "bundle and tree are $TOTAL bytes, too close to the 64 MiB limit"
