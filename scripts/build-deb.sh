#!/usr/bin/env bash
# Builds the Debian package from a configured and built tree (default: build/), without compiling
# anything: `cmake --install --prefix /usr --strip` into a staging dir, then the control files
# (dependencies from dpkg-shlibdeps, md5sums, conffiles, maintainer scripts from deploy/debian/)
# and dpkg-deb. Prints the package's path.
#   scripts/build-deb.sh [BUILD_DIR [OUT_DIR]]
# A cross tree names its architecture in BUILD_DIR/deploy/package.env; SHLIBDEPS_SYSROOT
# (a folder of unpacked -dev and library packages) is searched for libraries not installed.
set -euo pipefail
umask 022
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
out="${2:-$build/packages}"
# version, arch, strip: written by cmake/Packaging.cmake.
# shellcheck disable=SC1091
source "$build/deploy/package.env"

# The changelog names the package version; its upstream part must be the project's.
full_version=$(dpkg-parsechangelog -l "$root/deploy/debian/changelog" -S Version)
if [[ "${full_version%-*}" != "$version" ]]; then
  echo "build-deb: deploy/debian/changelog is at $full_version, the project at $version:" \
       "add a changelog entry" >&2
  exit 1
fi

stage="$build/deb/tracermon"
rm -rf "$stage"
DESTDIR="$stage" cmake --install "$build" --prefix /usr --strip >/dev/null
# As dh_strip does: no comment or note sections either.
"$strip" --remove-section=.comment --remove-section=.note --strip-unneeded "$stage/usr/bin/tracermon"

# Dependencies of the binary, for the package's architecture.
shlibs_dir="$build/deb/shlibdeps"
rm -rf "$shlibs_dir" && mkdir -p "$shlibs_dir/debian" && touch "$shlibs_dir/debian/control"
shlibdeps_args=()
if [[ -n "${SHLIBDEPS_SYSROOT:-}" ]]; then
  for dir in "$SHLIBDEPS_SYSROOT"/*/; do shlibdeps_args+=("-S$dir"); done
fi
shlibs=$(cd "$shlibs_dir" && DEB_HOST_ARCH="$arch" dpkg-shlibdeps -O "${shlibdeps_args[@]}" \
           -e "$stage/usr/bin/tracermon" 2> >(grep -v "should already be installed in their package" >&2))
shlibs=${shlibs#shlibs:Depends=}

install -D -m 0644 "$root/deploy/debian/lintian/tracermon" "$stage/usr/share/lintian/overrides/tracermon"
mkdir -p "$stage/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "$root/deploy/debian/$script" "$stage/DEBIAN/$script"
done
(cd "$stage" && find etc -type f -printf '/%p\n' | sort) > "$stage/DEBIAN/conffiles"
chmod 0644 "$stage/DEBIAN/conffiles"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
   xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"
installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$full_version/" -e "s/@ARCH@/$arch/" -e "s/@SHLIBS@/$shlibs/" \
    -e "s/@INSTALLED_SIZE@/$installed_size/" "$root/deploy/debian/control.in" \
    > "$stage/DEBIAN/control"

mkdir -p "$out"
deb="$out/tracermon_${full_version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
