#!/usr/bin/env bash
# `make package-all`: the arm64 and armhf packages (Raspberry Pi OS 64- and 32-bit), cross-built
# with Debian's cross toolchains into build-arm64/ and build-armhf/ (only the binary and the
# installed files: no tests, no benchmarks), then smoke-tested under qemu-user-static:
# `tracermon --version` and a `tracermon read` of the in-process simulator. Installs the cross
# dependencies first (scripts/install-cross-deps.sh, root or sudo). Slow (see docs/installing.md),
# so not part of CI. The amd64 package is `make package`.
#   scripts/package-all.sh [ARCH...]     (default: arm64 armhf)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
arches=("$@")
((${#arches[@]} > 0)) || arches=(arm64 armhf)
jobs=${JOBS:-2}

"$root/scripts/install-cross-deps.sh" "${arches[@]}"

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

summary=()
for arch in "${arches[@]}"; do
  werror=ON
  case "$arch" in
    arm64) triplet=aarch64-linux-gnu qemu=qemu-aarch64-static ;;
    armhf) triplet=arm-linux-gnueabihf qemu=qemu-arm-static ;;
    *) echo "package-all: unknown architecture $arch" >&2; exit 2 ;;
  esac
  build="$root/build-$arch"
  started=$SECONDS
  echo "== $arch: configure and build in $build"
  # -O2 as the amd64 RelWithDebInfo build, without its debug info (the package is stripped).
  cmake -S "$root" -B "$build" -G Ninja "${launcher[@]}" \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/$arch.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DTRACERMON_BUILD_TESTS=OFF -DTRACERMON_BUILD_BENCH=OFF -DTRACERMON_WERROR="$werror" >/dev/null
  cmake --build "$build" --target tracermon tracermon_install_files -- -j"$jobs"
  deb=$("$root/scripts/build-deb.sh" "$build")
  built=$((SECONDS - started))

  echo "== $arch: lintian"
  lintian --fail-on error "$deb" 2>&1 | grep -v "root privileges" || true

  echo "== $arch: smoke test under $qemu"
  run=("$qemu" -L "/usr/$triplet" "$build/tracermon")
  version=$("${run[@]}" --version)
  echo "$version"
  [[ "$version" == "tracermon "* ]] || { echo "package-all: $arch --version: $version" >&2; exit 1; }
  pvvolt=$("${run[@]}" read --port 'sim:ids=1&seed=7' 1 pvvolt)
  [[ "$pvvolt" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "package-all: $arch read: $pvvolt" >&2; exit 1; }
  echo "read 1 pvvolt: $pvvolt"
  # PV is 0 at night in the simulator; the battery never is.
  bavolt=$("${run[@]}" read --port 'sim:ids=1&seed=7' 1 bavolt)
  awk -v v="$bavolt" 'BEGIN { exit !(v > 5 && v < 70) }' ||
    { echo "package-all: $arch read bavolt: $bavolt" >&2; exit 1; }
  echo "read 1 bavolt: $bavolt"
  # The same against the binary the package installs (stripped).
  staged=("$qemu" -L "/usr/$triplet" "$build/deb/tracermon/usr/bin/tracermon")
  "${staged[@]}" read --port 'sim:ids=1,2' --json 1,2 | grep -c '"values"' | grep -qx 2 ||
    { echo "package-all: $arch: the packaged binary's JSON read failed" >&2; exit 1; }

  summary+=("$(basename "$deb"): $(du -k "$deb" | cut -f1) KiB, installed $(dpkg-deb -f "$deb" Installed-Size) KiB, built in ${built}s")
done

echo
printf '%s\n' "${summary[@]}"
