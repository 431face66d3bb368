# Cross-compiling for Debian arm64 (Raspberry Pi OS 64-bit).
set(TRACERMON_TRIPLET aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(TRACERMON_DEB_ARCH arm64)
set(TRACERMON_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
