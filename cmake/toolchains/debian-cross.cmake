# What every Debian cross build shares; arm64.cmake and armhf.cmake set TRACERMON_TRIPLET,
# CMAKE_SYSTEM_PROCESSOR, TRACERMON_DEB_ARCH and TRACERMON_QEMU first. Debian's cross toolchain
# (crossbuild-essential-<arch>) and the multiarch -dev packages (libmodbus-dev:<arch> ...), as
# scripts/install-cross-deps.sh installs them. Used by scripts/package-all.sh.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${TRACERMON_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${TRACERMON_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${TRACERMON_TRIPLET})

# Libraries and headers of the target only (multiarch: /usr/lib/<triplet>, /usr/include/<triplet>);
# programs of the build machine. Architecture-independent headers (/usr/include) and CMake
# package files (/usr/lib/cmake, /usr/share) are shared.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config answers for the target's .pc files.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${TRACERMON_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# The cross strip, for `cmake --install --strip` and scripts/build-deb.sh.
set(CMAKE_STRIP /usr/bin/${TRACERMON_TRIPLET}-strip CACHE FILEPATH "")
# What a test would run the binaries with.
set(CMAKE_CROSSCOMPILING_EMULATOR ${TRACERMON_QEMU};-L;/usr/${TRACERMON_TRIPLET})
