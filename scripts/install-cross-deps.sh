#!/usr/bin/env bash
# Installs what `make package-all` needs to cross-build the arm64 and armhf packages, all from
# Debian's archive: the cross toolchains, the target architectures' -dev packages (multiarch,
# co-installed with the amd64 ones) and qemu-user-static for the smoke test. Idempotent: when
# everything is there it only checks. It never accepts an apt transaction that would remove a
# package (a foreign -dev package that conflicts with the native one would remove the native
# one, which this machine builds against): it simulates first and stops instead.
#   scripts/install-cross-deps.sh [ARCH...]     (default: arm64 armhf)
set -euo pipefail
arches=("$@")
((${#arches[@]} > 0)) || arches=(arm64 armhf)

# The libraries of CMakeLists.txt; header-only ones (CLI11, nlohmann-json) are Architecture: all
# and shared with the native build.
libs=(libmodbus-dev libfmt-dev libspdlog-dev libtomlplusplus-dev libsqlite3-dev libcpp-httplib-dev
      libsystemd-dev libmosquitto-dev libcurl4-openssl-dev zlib1g-dev)
wanted=(qemu-user-static libcli11-dev nlohmann-json3-dev dpkg-dev)
for arch in "${arches[@]}"; do
  wanted+=("crossbuild-essential-$arch")
  for lib in "${libs[@]}"; do wanted+=("$lib:$arch"); done
done

sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "install-cross-deps: need root or sudo" >&2; exit 1; }
  sudo=(sudo)
fi

missing=()
for p in "${wanted[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]} > 0)) || exit 0

added=0
for arch in "${arches[@]}"; do
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    "${sudo[@]}" dpkg --add-architecture "$arch"
    added=1
  fi
done
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq

plan=$(apt-get install -s --no-install-recommends "${missing[@]}" 2>&1) || {
  echo "$plan" >&2
  echo "install-cross-deps: apt cannot install ${missing[*]}" >&2
  exit 1
}
if grep -q '^Remv ' <<<"$plan"; then
  echo "install-cross-deps: installing ${missing[*]} would remove:" >&2
  grep '^Remv ' <<<"$plan" >&2
  echo "install-cross-deps: refused; nothing was installed" >&2
  ((added == 0)) || echo "install-cross-deps: (the architectures stay added: dpkg --remove-architecture undoes it)" >&2
  exit 1
fi
echo "install-cross-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
