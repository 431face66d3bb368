# The front door. `make test` on a fresh Debian / Raspberry Pi OS machine installs what is
# missing, builds and runs every test; `make` builds build/tracermon.
.PHONY: all build deps test test-asan test-tsan demo bench format tidy clean install package \
	package-check package-all

all: build

deps:
	@scripts/install-deps.sh

build/build.ninja:
	cmake --preset default

build: build/build.ninja
	cmake --build --preset default

test: deps
	$(MAKE) build
	ctest --preset default

# Three simulated controllers on one bus, the embedded store and the API, on this machine.
demo: deps
	$(MAKE) build
	build/tracermon demo --dir build/demo --history 7

# Installs into PREFIX (default /usr/local), under DESTDIR if given; see docs/installing.md.
PREFIX ?= /usr/local
install: build
	DESTDIR=$(DESTDIR) cmake --install build --prefix $(PREFIX) --strip

# The Debian package of this machine's architecture, from build/: build/packages/*.deb.
package: build
	cmake --build --preset default --target tracermon_install_files
	scripts/build-deb.sh build

# CI (after `make test`): the package checked with lintian, installed, checked and purged on
# this machine (root; TRACERMON_PACKAGE_CHECK=1 outside CI).
package-check:
	scripts/package-check.sh build

# The arm64 and armhf packages (Raspberry Pi OS 64- and 32-bit), cross-compiled and smoke-tested
# under qemu; build-arm64/ and build-armhf/. Slow: not part of CI.
package-all: package
	scripts/package-all.sh

test-asan: deps
	cmake --preset asan
	cmake --build --preset asan
	ctest --preset asan

test-tsan: deps
	cmake --preset tsan
	cmake --build --preset tsan
	ctest --preset tsan

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

tidy: build/build.ninja
	run-clang-tidy -quiet -p build $$(git ls-files 'src/*.cpp')

clean:
	rm -rf build build-asan build-tsan build-arm64 build-armhf
