#!/usr/bin/env bash
# Installs the Debian packages tracermon needs to build and test. Idempotent: when every
# package is present it only checks and returns; it runs apt-get update only when it must install.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config make
  # libraries
  libmodbus-dev libfmt-dev libspdlog-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev
  libsqlite3-dev libcpp-httplib-dev libsystemd-dev libmosquitto-dev libcurl4-openssl-dev zlib1g-dev
  # tests and benchmarks
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # real peers for integration tests
  python3 python3-pymodbus python3-serial python3-serial-asyncio socat mbpoll
  faketime mosquitto mosquitto-clients influxdb influxdb-client victoria-metrics
  # the dashboard's end-to-end tests (playwright-core drives it; never a downloaded browser)
  chromium
  # the packaging tests (systemd-analyze verify of the unit) and `make package` (dpkg-shlibdeps)
  systemd dpkg-dev
)

native=$(dpkg --print-architecture)
missing=()
for p in "${packages[@]}"; do
  # One line per installed architecture (a cross build adds libmodbus-dev:arm64 ...): the
  # machine's own or an architecture-independent one counts.
  dpkg-query -W -f='${Status} ${Architecture}\n' "$p" 2>/dev/null |
    grep -qxE "install ok installed ($native|all)" || missing+=("$p")
done

# The dashboard's front-end libraries come from npm, pinned by web/ui/package-lock.json.
root="$(cd "$(dirname "$0")/.." && pwd)"
ui="$root/web/ui"
if [[ -f "$ui/package-lock.json" ]] && ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm ci only when the lockfile changed since the last install (it rewrites node_modules).
if [[ -f "$ui/package-lock.json" ]] &&
   [[ ! -f "$ui/node_modules/.package-lock.json" || "$ui/package-lock.json" -nt "$ui/node_modules/.package-lock.json" ]]; then
  echo "install-deps: npm ci in web/ui"
  (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
fi
