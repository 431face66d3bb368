# Cross-compiling for Debian arm64 (Raspberry Pi OS 64-bit) with Debian's cross toolchain
# (crossbuild-essential-arm64) and the multiarch -dev packages (libmodbus-dev:arm64 ...), as
# scripts/install-cross-deps.sh installs them. Used by scripts/package-all.sh.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(TRACERMON_DEB_ARCH arm64)

# Libraries and headers of the target only (multiarch: /usr/lib/aarch64-linux-gnu,
# /usr/include/aarch64-linux-gnu); programs of the build machine. Architecture-independent
# headers (/usr/include) and CMake package files (/usr/lib/cmake, /usr/share) are shared.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config answers for the target's .pc files.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# The cross strip, for `cmake --install --strip` and scripts/build-deb.sh.
set(CMAKE_STRIP /usr/bin/aarch64-linux-gnu-strip CACHE FILEPATH "")
# What a test would run the binaries with.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static;-L;/usr/aarch64-linux-gnu)
