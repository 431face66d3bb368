# Cross-compiling for Debian armhf (Raspberry Pi OS 32-bit) with Debian's cross toolchain
# (crossbuild-essential-armhf) and the multiarch -dev packages (libmodbus-dev:armhf ...), as
# scripts/install-cross-deps.sh installs them. Used by scripts/package-all.sh.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
set(TRACERMON_DEB_ARCH armhf)

# Libraries and headers of the target only (multiarch: /usr/lib/arm-linux-gnueabihf,
# /usr/include/arm-linux-gnueabihf); programs of the build machine. Architecture-independent
# headers (/usr/include) and CMake package files (/usr/lib/cmake, /usr/share) are shared.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config answers for the target's .pc files.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# The cross strip, for `cmake --install --strip` and scripts/build-deb.sh.
set(CMAKE_STRIP /usr/bin/arm-linux-gnueabihf-strip CACHE FILEPATH "")
# What a test would run the binaries with.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm-static;-L;/usr/arm-linux-gnueabihf)
# GCC notes that std::pair passing changed in GCC 7.1 on 32-bit ARM: irrelevant here, as every
# object is built by this one compiler.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
