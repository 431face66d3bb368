# Cross-compiling for Debian armhf (Raspberry Pi OS 32-bit).
set(TRACERMON_TRIPLET arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(TRACERMON_DEB_ARCH armhf)
set(TRACERMON_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
# GCC notes that std::pair passing changed in GCC 7.1 on 32-bit ARM: irrelevant here, as every
# object is built by this one compiler.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
