# The front door. `make test` on a fresh Debian / Raspberry Pi OS machine installs what is
# missing, builds and runs every test; `make` builds build/tracermon.
.PHONY: all build deps test test-asan test-tsan demo bench format tidy clean

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
	rm -rf build build-asan build-tsan
