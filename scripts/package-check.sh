#!/usr/bin/env bash
# CI's package test: builds the amd64 .deb from the already built build/ tree (`make test`
# built it; nothing is compiled here), checks it with lintian, INSTALLS IT SYSTEM-WIDE with
# dpkg -i, checks the installed files and the service user's access, and purges it again,
# checking nothing is left behind. Works without systemd running (containers, CI).
#
# Because it installs and purges the package on this machine (an installed tracermon is purged
# first), it runs only as root and only where CI is set or TRACERMON_PACKAGE_CHECK=1.
#   scripts/package-check.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"

if [[ -z "${CI:-}" && "${TRACERMON_PACKAGE_CHECK:-}" != 1 ]]; then
  echo "package-check: installs and purges the tracermon package on this machine;" \
       "run it with TRACERMON_PACKAGE_CHECK=1 (CI sets CI)" >&2
  exit 2
fi
if ((EUID != 0)); then
  echo "package-check: needs root (dpkg -i, runuser)" >&2
  exit 2
fi
[[ -x "$build/tracermon" ]] || { echo "package-check: no $build/tracermon: run make build" >&2; exit 2; }

start=$SECONDS
step() { printf '\n== %s (%ds)\n' "$*" $((SECONDS - start)); }
fail() { echo "package-check: FAILED: $*" >&2; exit 1; }

# What the checks use, installed when missing (idempotent).
missing=()
for p in lintian socat systemd dpkg-dev; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  step "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

step "building the package"
cmake --build "$build" --target tracermon tracermon_install_files >/dev/null
deb=$("$root/scripts/build-deb.sh" "$build")
ls -l "$deb"

step "lintian"
lintian_rc=0
report=$(lintian --fail-on error --display-level ">=warning" "$deb" 2>&1) || lintian_rc=$?
grep -v "root privileges" <<<"$report" || true
((lintian_rc == 0)) || fail "lintian reports errors"

cleanup_pids=()
cleanup() {
  for pid in "${cleanup_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

if dpkg-query -W -f='${Status}' tracermon 2>/dev/null | grep -q "installed\|config-files"; then
  step "purging the tracermon installed before"
  dpkg --purge tracermon >/dev/null
fi

step "dpkg -i"
if ! dpkg -i "$deb"; then
  apt-get install -f -y -qq --no-install-recommends || fail "dpkg -i: dependencies"
fi
[[ "$(dpkg-query -W -f='${Status}' tracermon)" == "install ok installed" ]] || fail "not installed"

step "installed files"
/usr/bin/tracermon --version
/usr/bin/tracermon --version |
  grep -Eq '^tracermon [0-9.]+ \(git (unknown|[0-9a-f]{7,}(\+dirty)?), built [0-9]{4}-[0-9]{2}-[0-9]{2}\)$' ||
  fail "--version has no revision and date"
/usr/bin/tracermon config check /etc/tracermon/tracermon.toml >/dev/null || fail "config check on the default config"
if readelf -S /usr/bin/tracermon | grep -q "\.symtab\|\.debug_info"; then fail "the binary is not stripped"; fi
for f in /lib/systemd/system/tracermon.service /lib/udev/rules.d/60-tracermon.rules \
         /usr/lib/sysusers.d/tracermon.conf /usr/share/man/man1/tracermon.1.gz \
         /usr/share/bash-completion/completions/tracermon /usr/share/doc/tracermon/copyright \
         /usr/share/doc/tracermon/changelog.Debian.gz /usr/share/tracermon/usb-adapters.csv \
         /usr/share/tracermon/grafana/dashboards/tracermon.json \
         /usr/share/doc/tracermon/examples/tracermon.toml; do
  [[ -f "$f" ]] || fail "missing $f"
done
grep -qx /etc/tracermon/tracermon.toml /var/lib/dpkg/info/tracermon.conffiles || fail "no conffile"

step "the service unit"
verify_args=()
command -v man >/dev/null || verify_args+=(--man=no)
out=$(systemd-analyze verify "${verify_args[@]}" /lib/systemd/system/tracermon.service 2>&1) ||
  fail "systemd-analyze verify: $out"
[[ -z "$out" ]] || fail "systemd-analyze verify warns: $out"
grep -q '^ExecStart=/usr/bin/tracermon run --config /etc/tracermon/tracermon.toml$' \
  /lib/systemd/system/tracermon.service || fail "ExecStart"

step "the tracermon user"
id tracermon
id -nG tracermon | tr ' ' '\n' | grep -qx dialout || fail "tracermon is not in dialout"
id -nG tracermon | tr ' ' '\n' | grep -qx tracermon || fail "tracermon is not in group tracermon"
as_tracermon() { runuser -u tracermon -- "$@"; }
as_tracermon cat /etc/tracermon/tracermon.toml >/dev/null || fail "tracermon cannot read its config"
as_tracermon touch /var/lib/tracermon/.write-check || fail "tracermon cannot write /var/lib/tracermon"
rm /var/lib/tracermon/.write-check
# What systemd's RuntimeDirectory= makes at start.
install -d -o tracermon -g tracermon -m 0755 /run/tracermon

step "a serial port of group dialout, mode 0660, as the tracermon user"
# The simulator behind a pty as the adapter; the pts made dialout 0660 as udev makes adapters.
pty_dir=$(mktemp -d)
/usr/bin/tracermon simulate --ids 1 --pty "$pty_dir/ttySIM" >"$pty_dir/sim.log" 2>&1 &
cleanup_pids+=($!)
for _ in $(seq 100); do [[ -e "$pty_dir/ttySIM" ]] && break; sleep 0.1; done
[[ -e "$pty_dir/ttySIM" ]] || fail "the simulator made no pty: $(cat "$pty_dir/sim.log")"
pts=$(readlink -f "$pty_dir/ttySIM")
chmod 0711 "$pty_dir"
chgrp dialout "$pts" && chmod 0660 "$pts"
value=$(as_tracermon /usr/bin/tracermon read --port "$pty_dir/ttySIM" 1 pvvolt) ||
  fail "tracermon cannot read through a dialout 0660 tty"
echo "pvvolt as user tracermon: $value"
# The control: the same tty with another group must be refused, or this step proves nothing.
chgrp root "$pts"
if as_tracermon sh -c 'exec 3<>"$1"' sh "$pts" 2>/dev/null; then
  fail "the tracermon user opened a root:root 0660 tty"
fi
chgrp dialout "$pts"

step "the daemon as the tracermon user, with the installed config on the simulator's port"
# The installed configuration with the pty as its port and any free HTTP port.
check_config=/etc/tracermon/package-check.toml
sed -e "s#^port = .*#port = \"$pty_dir/ttySIM\"#" -e 's#^listen = .*#listen = "127.0.0.1:0"#' \
  /etc/tracermon/tracermon.toml >"$check_config"
# setpriv execs (runuser forks and would take the SIGTERM and the exit status).
setpriv --reuid=tracermon --regid=tracermon --init-groups --reset-env \
  /usr/bin/tracermon run --config "$check_config" >"$pty_dir/daemon.log" 2>&1 &
daemon=$!
cleanup_pids+=("$daemon")
for _ in $(seq 200); do [[ -s /run/tracermon/bus1-1.json ]] && grep -q pv_voltage /run/tracermon/bus1-1.json && break; sleep 0.1; done
grep -q pv_voltage /run/tracermon/bus1-1.json 2>/dev/null ||
  fail "no state file from the daemon: $(cat "$pty_dir/daemon.log")"
[[ -f /var/lib/tracermon/tracermon.db ]] || fail "no store in /var/lib/tracermon"
kill -TERM "$daemon"
wait "$daemon" || fail "the daemon did not stop cleanly: $(cat "$pty_dir/daemon.log")"
rm -f "$check_config"

step "reinstalling keeps a changed conffile"
echo "# changed by package-check" >>/etc/tracermon/tracermon.toml
dpkg -i "$deb" >/dev/null
grep -q "changed by package-check" /etc/tracermon/tracermon.toml || fail "the changed config was replaced"

step "dpkg --purge"
dpkg --purge tracermon >/dev/null
left=$(dpkg -L tracermon 2>/dev/null || true)
[[ -z "$left" ]] || fail "dpkg -L still lists: $left"
for f in /etc/tracermon /var/lib/tracermon /run/tracermon /usr/share/tracermon /usr/bin/tracermon \
         /usr/share/doc/tracermon /lib/systemd/system/tracermon.service \
         /lib/udev/rules.d/60-tracermon.rules /usr/lib/sysusers.d/tracermon.conf; do
  [[ ! -e "$f" ]] || fail "left behind: $f"
done
# The user stays (Debian policy): files it owned elsewhere keep a valid owner.
id tracermon >/dev/null

rm -rf "$pty_dir"
step "package-check OK: $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB"
