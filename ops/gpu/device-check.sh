#!/usr/bin/env bash
# The GPU check, in one command, on a CUDA machine that has Python's torch, CMake, ninja and a C++ compiler but no
# JVM and no network (the lent H200 machine; docs/models.md#gpu-and-16-bit-scoring). Needs the bundle that
# ops/gpu/prepare-bundle.sh made (target/device-bundle, carried beside the working tree). From the repo root:
#
#   bash ops/gpu/device-check.sh                 # on the GPU machine
#   bash ops/gpu/device-check.sh --dry-run-cpu --python PY   # rehearsal on a CPU machine, PY = a python with torch
#
# Steps, each stopping the script with a message when it fails:
#   1. nvidia-smi sees a GPU, and the python's torch sees it (skipped with --dry-run-cpu)
#   2. unpack the bundle (a jlink Java 17 runtime, the app, the test classes, DJL's JNI sources)
#   3. build DJL 0.36's JNI, libdjl_torch.so, against that torch (DJL's CMakeLists.txt + ninja, with USE_CUDA on
#      a GPU; if that fails, the same compile without CMake), or take --jni FILE (one an earlier run returned)
#   4. put it where DJL looks with PYTORCH_LIBRARY_PATH = torch/lib: DJL_CACHE_DIR/pytorch/
#      <PYTORCH_VERSION>-<PYTORCH_FLAVOR>-linux-x86_64/0.36.0-libdjl_torch.so, offline (-Dai.djl.offline=true)
#   5. the golden tests (SyntheticGoldenTest: float32 through sdpa and ndarray; SlidingWindowGoldenTest;
#      ReducedPrecisionGoldenTest: bfloat16 and float16) with -Dtoedit.test.device=gpu, through the JUnit console
#   6. bench --device gpu --dtype auto on llama3-tiny (synthetic, from the test resources), then on the
#      Llama-3.2-1B-shaped synth-model preset (skipped with --skip-1b, or when too little time is left)
#
# Results go to $OUT (the device tool's folder; default target/device-out), at most 8 files: device-check.log
# (everything), summary.txt, jni-build.log, golden-tests.log, golden-tests.xml, bench-tiny.log, bench-1b.log and
# libdjl_torch.so (for --jni next time). Ends within --budget-s (default 480 s) of starting: every step runs
# under `timeout`, capped by what is left of the budget (exit 124 in the summary: a step ran out of time).
#
# Options:
#   --bundle DIR      the bundle folder (default target/device-bundle)
#   --python PY       the python with torch (default: python3 on the PATH)
#   --work DIR        scratch folder (default /tmp/toedit-device); models and the DJL cache go there
#   --jni FILE        use this libdjl_torch.so instead of building one
#   --builder B       cmake (default; falls back to direct if it fails) or direct (g++ without CMake)
#   --dry-run-cpu     everything on the CPU: no nvidia-smi, JNI without CUDA, tests and bench on the CPU
#   --skip-1b         no 1B bench
#   --budget-s N      seconds the whole script may take; the 1B bench is skipped when it would not fit
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
REPO=$(pwd)
START=$(date +%s)

BUNDLE=target/device-bundle
PY=python3
WORK=/tmp/toedit-device
JNI=""
BUILDER=cmake
DRY=0
SKIP_1B=0
BUDGET=480
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bundle) BUNDLE=$2; shift 2 ;;
    --python) PY=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --jni) JNI=$2; shift 2 ;;
    --builder) BUILDER=$2; shift 2 ;;
    --dry-run-cpu) DRY=1; shift ;;
    --skip-1b) SKIP_1B=1; shift ;;
    --budget-s) BUDGET=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "device-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

OUT=${OUT:-$REPO/target/device-out}
mkdir -p "$OUT" "$WORK"
OUT=$(cd "$OUT" && pwd)
WORK=$(cd "$WORK" && pwd)
exec > >(tee -a "$OUT/device-check.log") 2>&1
SUMMARY=$OUT/summary.txt
: > "$SUMMARY"

elapsed() { echo $(( $(date +%s) - START )); }
# Runs a command under `timeout`: at most CAP seconds, and never past the budget (less 15 s for the summary).
capped() {
  local cap=$1 left
  shift
  left=$(( BUDGET - $(elapsed) - 15 ))
  (( left < cap )) && cap=$left
  if (( cap < 10 )); then
    echo "not run, the $BUDGET s budget is spent: $*"
    return 124
  fi
  timeout --kill-after=10 "$cap" "$@"
}
step() { echo; echo "== [$(elapsed) s] $*"; }
note() { echo "$*" | tee -a "$SUMMARY"; }
die() {
  note "FAILED at $(elapsed) s: $*"
  exit 1
}

MODE=gpu
[[ $DRY == 1 ]] && MODE=cpu
note "device-check: mode $MODE, repo $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%M:%SZ)"

# ---- 1. GPU and torch
step "GPU and torch"
if [[ $MODE == gpu ]]; then
  command -v nvidia-smi >/dev/null || die "no nvidia-smi on the PATH: not a GPU machine (use --dry-run-cpu to rehearse)"
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv \
    || die "nvidia-smi sees no GPU"
fi
command -v "$PY" >/dev/null || die "no python '$PY' (give --python)"
TORCH_INFO=$("$PY" - <<'EOF'
import os, torch
print("TORCH_VERSION=" + torch.__version__)
print("TORCH_DIR=" + os.path.dirname(torch.__file__))
print("TORCH_CUDA=" + (torch.version.cuda or ""))
print("TORCH_CUDA_OK=" + ("1" if torch.cuda.is_available() else "0"))
print("TORCH_GPU=" + (torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""))
print("TORCH_ABI=" + str(int(torch._C._GLIBCXX_USE_CXX11_ABI)))
EOF
) || die "'$PY' cannot import torch"
echo "$TORCH_INFO"
eval "$(echo "$TORCH_INFO" | sed -E "s/^([A-Z_]+)=(.*)$/\1='\2'/")"
note "torch $TORCH_VERSION (CUDA '${TORCH_CUDA}', C++11 ABI $TORCH_ABI) at $TORCH_DIR; GPU: ${TORCH_GPU:-none}"
TORCH_LIB=$TORCH_DIR/lib
[[ -f "$TORCH_LIB/libtorch.so" && -d "$TORCH_DIR/include/torch" ]] || die "no libtorch.so or headers under $TORCH_DIR"
PT_VERSION=${TORCH_VERSION%%+*}
if [[ $MODE == gpu ]]; then
  [[ $TORCH_CUDA_OK == 1 ]] || die "torch $TORCH_VERSION sees no GPU (torch.cuda.is_available() is False)"
  FLAVOR=cu${TORCH_CUDA//./}
else
  FLAVOR=cpu
fi
# libcudart for DJL's CudaUtils (JNA loads 'cudart' to count GPUs; Engine.getGpuCount() is 0 without it): the
# folder of the pip nvidia package that torch itself loads it from, else the toolkit's
CUDA_LIBS=""
if [[ $MODE == gpu ]]; then
  SITE=$(dirname "$TORCH_DIR")
  CUDA_LIBS=$(find "$SITE/nvidia" "$TORCH_LIB" -name 'libcudart.so*' -printf '%h\n' 2>/dev/null | sort -u | paste -sd:)
  [[ -n "$CUDA_LIBS" ]] || { [[ -d /usr/local/cuda/lib64 ]] && CUDA_LIBS=/usr/local/cuda/lib64; }
  [[ -n "$CUDA_LIBS" ]] || die "no libcudart.so* under $SITE/nvidia, $TORCH_LIB or /usr/local/cuda/lib64"
  echo "libcudart folders: $CUDA_LIBS"
fi

# ---- 2. bundle
step "unpack the bundle"
ARCHIVE=$BUNDLE/toedit-device-bundle.tar.xz
[[ -f "$ARCHIVE" ]] || die "no $ARCHIVE: run ops/gpu/prepare-bundle.sh here first, then carry $BUNDLE"
B=$WORK/bundle
rm -rf "$B" && mkdir -p "$B"
"$PY" -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$ARCHIVE" "$B" \
  || die "could not unpack $ARCHIVE"
head -4 "$B/BUNDLE.txt"
JAVA=$B/jre/bin/java
"$JAVA" -version 2>&1 | head -1 || die "the bundled Java runtime does not start"
APP_CP=$B/app/toedit-streams.jar
for j in "$B"/app/lib/*.jar; do APP_CP=$APP_CP:$j; done

# ---- 3. JNI
# DJL's own way: its CMakeLists.txt with find_package(Torch) from torch's share/cmake (as DJL's build.sh does)
build_cmake() {
  rm -rf "$BUILD"
  local gen=Ninja args
  command -v ninja >/dev/null || gen="Unix Makefiles"
  args=(-S "$SRC" -B "$BUILD" -G "$gen" -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_PREFIX_PATH=$TORCH_DIR;$TORCH_DIR/share/cmake" "-DJAVA_HOME=$B/jre")
  if [[ $MODE == gpu ]]; then
    # USE_CUDA: DJL's cudaEmptyCache and separate-stream inference; 9.0: the H200 (nothing is compiled for the
    # GPU, but torch's CMake config reads the architecture list, else detects it by running a program)
    args+=(-DUSE_CUDA=1)
    export TORCH_CUDA_ARCH_LIST=9.0
    command -v nvcc >/dev/null || export PATH=$PATH:/usr/local/cuda/bin    # CMake's FindCUDAToolkit
  fi
  echo "cmake ${args[*]}"
  cmake "${args[@]}" && cmake --build "$BUILD" --parallel "$(nproc)"
}
# The same sources and flags without CMake (if torch's CMake config cannot be satisfied, e.g. a missing CUDA
# toolkit part): g++ on each file in parallel, then one link against torch/lib
build_direct() {
  rm -rf "$BUILD" && mkdir -p "$BUILD"
  local cxx=${CXX:-g++} inc flags libs
  inc=(-I"$SRC/build/include" -I"$B/jre/include" -I"$B/jre/include/linux" -I"$B/djl-src/api/src/main/native"
    -isystem "$TORCH_DIR/include" -isystem "$TORCH_DIR/include/torch/csrc/api/include")
  flags=(-O3 -DNDEBUG -fPIC -std=gnu++17 -D_GLIBCXX_USE_CXX11_ABI="$TORCH_ABI")
  # shellcheck disable=SC2054  # a linker flag, not a list
  libs=(-L"$TORCH_LIB" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10)
  if [[ $MODE == gpu ]]; then
    flags+=(-DUSE_CUDA)
    local d
    for d in /usr/local/cuda/include $(find "$(dirname "$TORCH_DIR")/nvidia" -maxdepth 3 -type d -name include \
        2>/dev/null); do
      inc+=(-isystem "$d")
    done
    libs+=(-ltorch_cuda -lc10_cuda)
  fi
  echo "$cxx ${flags[*]} ${inc[*]}"
  printf '%s\n' "$SRC"/src/main/native/*.cc | xargs -P "$(nproc)" -I{} sh -c \
    'f=$1 b=$2; shift 2; echo "compiling ${f##*/}"; "$0" "$@" -c "$f" -o "$b/${f##*/}.o"' \
    "$cxx" "{}" "$BUILD" "${flags[@]}" "${inc[@]}" || return 1
  "$cxx" -shared -o "$BUILD/libdjl_torch.so" "$BUILD"/*.o "${libs[@]}" -Wl,-rpath,'$ORIGIN'
}
step "DJL JNI (libdjl_torch.so) against torch $TORCH_VERSION"
JNI_OUT=$WORK/libdjl_torch.so
if [[ -n "$JNI" ]]; then
  cp "$JNI" "$JNI_OUT" || die "no --jni file $JNI"
  note "JNI: given, $JNI"
else
  SRC=$B/djl-src/engines/pytorch/pytorch-native
  BUILD=$WORK/jni-build
  T0=$(date +%s)
  : > "$OUT/jni-build.log"
  RC=1
  if [[ $BUILDER == cmake ]]; then
    capped 300 bash -c "$(declare -f build_cmake); $(declare -p SRC BUILD B TORCH_DIR MODE); build_cmake" \
      >> "$OUT/jni-build.log" 2>&1
    RC=$?
    if [[ $RC != 0 ]]; then
      tail -15 "$OUT/jni-build.log"
      echo "the CMake build failed (rc $RC); trying the direct compiler build" | tee -a "$OUT/jni-build.log"
      BUILDER=direct
    fi
  fi
  if [[ $BUILDER == direct ]]; then
    capped 300 bash -c "$(declare -f build_direct); \
      $(declare -p SRC BUILD B TORCH_DIR TORCH_LIB TORCH_ABI MODE); build_direct" >> "$OUT/jni-build.log" 2>&1
    RC=$?
  fi
  tail -5 "$OUT/jni-build.log"
  [[ $RC == 0 && -f "$BUILD/libdjl_torch.so" ]] || die "the JNI build failed (rc $RC); see jni-build.log"
  cp "$BUILD/libdjl_torch.so" "$JNI_OUT"
  note "JNI: built by $BUILDER in $(( $(date +%s) - T0 )) s with $(nproc) jobs"
fi
cp "$JNI_OUT" "$OUT/libdjl_torch.so"
ldd "$JNI_OUT" | grep -E "torch|c10|cuda|not found" || true
if [[ $MODE == gpu ]] && ! readelf -d "$JNI_OUT" | grep -q "libtorch_cuda\|libc10_cuda"; then
  echo "note: the JNI does not link libtorch_cuda/libc10_cuda; DJL loads them from torch/lib by the cu flavor"
fi

# ---- 4. install
step "install the JNI where DJL looks"
export DJL_CACHE_DIR=$WORK/djl-cache
export PYTORCH_LIBRARY_PATH=$TORCH_LIB PYTORCH_VERSION=$PT_VERSION PYTORCH_FLAVOR=$FLAVOR
# test and Python-only libraries of the wheel, which DJL would otherwise System.load() one by one
EXCL=""
for f in "$TORCH_LIB"/*.so*; do
  n=$(basename "$f")
  case "$n" in *test*|libbackend_with_compiler.so|libaoti_custom_ops.so|libtorch_python.so|libshm*.so)
    EXCL=$EXCL${EXCL:+,}$n ;;
  esac
done
export PYTORCH_LIBRARY_EXCLUSION=$EXCL
DJL_VERSION=$(sed -n 's/^djl: \([^,]*\),.*/\1/p' "$B/BUNDLE.txt")
CACHE=$DJL_CACHE_DIR/pytorch/$PT_VERSION-$FLAVOR-linux-x86_64
mkdir -p "$CACHE" && cp "$JNI_OUT" "$CACHE/$DJL_VERSION-libdjl_torch.so" || die "could not install into $CACHE"
[[ -n "$CUDA_LIBS" ]] && export LD_LIBRARY_PATH=$CUDA_LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
echo "PYTORCH_LIBRARY_PATH=$PYTORCH_LIBRARY_PATH PYTORCH_VERSION=$PT_VERSION PYTORCH_FLAVOR=$FLAVOR"
echo "PYTORCH_LIBRARY_EXCLUSION=$EXCL"
echo "JNI: $CACHE/$DJL_VERSION-libdjl_torch.so"
JVM_FLAGS=(-Dai.djl.offline=true -Dai.djl.default_engine=PyTorch)
# JNA also finds a versioned libcudart.so.N in these folders (the pip package has no libcudart.so)
[[ -n "$CUDA_LIBS" ]] && JVM_FLAGS+=("-Djna.library.path=$CUDA_LIBS")
if [[ $MODE == gpu ]]; then
  "$JAVA" -cp "$APP_CP" ai.djl.util.cuda.CudaUtils 2>&1 | tail -3
fi

# ---- 5. golden tests
step "golden tests on $MODE (float32, bfloat16, float16)"
TEST_CP=$B/test/toedit-tests.jar:$APP_CP
CONSOLE=$(ls "$B"/test/junit-platform-console-standalone-*.jar)
T0=$(date +%s)
capped 240 "$JAVA" -Xmx2g --add-modules=jdk.incubator.foreign,jdk.incubator.vector "${JVM_FLAGS[@]}" \
  -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1 -Dtoedit.test.device=$MODE \
  -jar "$CONSOLE" execute --disable-banner --details=tree --class-path "$TEST_CP" \
  --select-class io.toedit.model.TestDeviceTest --select-class io.toedit.model.SyntheticGoldenTest \
  --select-class io.toedit.model.SlidingWindowGoldenTest --select-class io.toedit.model.ReducedPrecisionGoldenTest \
  --reports-dir "$WORK/junit" > "$OUT/golden-tests.log" 2>&1
RC=$?
cp "$WORK"/junit/TEST-junit-jupiter.xml "$OUT/golden-tests.xml" 2>/dev/null
grep -E "tests (successful|failed|aborted|skipped)" "$OUT/golden-tests.log"
GOLDEN=$(grep -E "tests (successful|failed)" "$OUT/golden-tests.log" | tr -s ' []' ' ' | paste -sd';')
note "golden tests on $MODE: rc $RC,$GOLDEN in $(( $(date +%s) - T0 )) s"
GOLDEN_RC=$RC
[[ $RC == 0 ]] || grep -E "✘|Exception|expected:" "$OUT/golden-tests.log" | head -20

# ---- 6. bench
bench() { # label, model dir, log, extra args...
  local label=$1 dir=$2 log=$3
  shift 3
  echo "bench $label: $*" >> "$log"
  capped 180 "$JAVA" "${JVM_FLAGS[@]}" -jar "$B/app/toedit-streams.jar" bench --model-dir "$dir" --device "$MODE" \
    --dtype auto "$@" >> "$log" 2>&1
  local rc=$?
  grep -E "Scoring device|scored tokens/s|model FLOP/s" "$log" | tail -3
  local line flops
  line=$(grep -E "scored tokens/s" "$log" | tail -1)
  flops=$(grep -E "model FLOP/s" "$log" | tail -1 | sed -E 's/.*median: ([0-9.]+) GFLOP\/s.*/\1/')
  note "bench $label ($*): rc $rc; ${line:-no result}"
  if [[ -n "$flops" && $MODE == gpu ]]; then
    # 989.4 TFLOP/s: the H100/H200 SXM datasheet's dense bf16 rate (KINDS.md measured 769-798 with torch)
    note "  MFU against 989.4 TFLOP/s dense bf16: $(echo "scale=2; 100 * $flops / 989400" | bc -l) %; bench's own probe: $(grep -E 'model FLOP/s' "$log" | tail -1 | sed -E 's/.*GFLOP per scored token\), //')"
  fi
  return $rc
}
step "bench on llama3-tiny"
MODELS=$WORK/models
rm -rf "$MODELS" && mkdir -p "$MODELS"
SYN=src/test/resources/models/synthetic
capped 60 "$JAVA" "${JVM_FLAGS[@]}" -jar "$B/app/toedit-streams.jar" synth-model --config $SYN/llama3-tiny/config.json \
  --out "$MODELS/llama3-tiny" --tokenizer $SYN/tokenizer-qwen3 > "$OUT/bench-tiny.log" 2>&1 \
  || die "synth-model llama3-tiny failed; see bench-tiny.log"
if [[ $MODE == gpu ]]; then
  bench tiny "$MODELS/llama3-tiny" "$OUT/bench-tiny.log" --runs 3
else
  bench tiny "$MODELS/llama3-tiny" "$OUT/bench-tiny.log" --runs 1 --max-tokens-per-doc 64  # the path, not a figure
fi
TINY_RC=$?

ONE_B_RC=skipped
if [[ $SKIP_1B == 1 ]]; then
  note "bench 1b: skipped (--skip-1b)"
elif (( $(elapsed) > BUDGET - 150 )); then
  note "bench 1b: skipped, $(elapsed) s of the $BUDGET s budget gone"
else
  step "bench on the llama-1b preset"
  T0=$(date +%s)
  capped 90 "$JAVA" "${JVM_FLAGS[@]}" -jar "$B/app/toedit-streams.jar" synth-model --preset llama-1b --out "$MODELS/llama-1b" \
    --tokenizer $SYN/tokenizer-qwen3 > "$OUT/bench-1b.log" 2>&1 || die "synth-model llama-1b failed; see bench-1b.log"
  note "synth-model llama-1b: $(( $(date +%s) - T0 )) s"
  if [[ $MODE == gpu ]]; then
    bench 1b "$MODELS/llama-1b" "$OUT/bench-1b.log" --runs 3
    ONE_B_RC=$?
    if (( $(elapsed) < BUDGET - 90 )); then
      # one worker and larger passes: what a GPU wants, against the CPU-sized defaults above
      bench 1b-large-passes "$MODELS/llama-1b" "$OUT/bench-1b.log" --runs 3 --workers 1 --max-batch-tokens 16384
    fi
  else
    # a CPU runs the 1B shape at about 90 tokens/s: one short run to rehearse the path
    bench 1b "$MODELS/llama-1b" "$OUT/bench-1b.log" --runs 1 --max-tokens-per-doc 8 --no-peak
    ONE_B_RC=$?
  fi
fi

step "done"
note "device-check: $(elapsed) s; golden rc $GOLDEN_RC, bench tiny rc $TINY_RC, bench 1b rc $ONE_B_RC"
ls -la "$OUT"
[[ $GOLDEN_RC == 0 && $TINY_RC == 0 && ( $ONE_B_RC == 0 || $ONE_B_RC == skipped ) ]]
