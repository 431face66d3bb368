# Run by `cmake --install` / `make install` / CPack (install(SCRIPT)): the files that live outside
# the prefix on a /usr install, placed by the prefix the install runs with, not the one CMake was
# configured with, so one build tree serves `make install` (/usr/local) and the package (/usr).
# Set by the install(CODE) before: SOURCE_DIR, BINARY_DIR, BINDIR (relative), and the optional
# overrides TRACERMON_SYSTEMD_UNITDIR, TRACERMON_UDEV_RULESDIR, TRACERMON_SYSUSERSDIR.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  # Debian 12's layout: /etc, and /lib for systemd and udev (not merged into /usr in packages).
  set(etc "/etc")
  set(lib "/lib")
  set(usr_lib "/usr/lib")
else()
  # systemd reads /usr/local/lib/systemd/system; udev rules there must be copied to
  # /etc/udev/rules.d (docs/installing.md).
  set(etc "${prefix}/etc")
  set(lib "${prefix}/lib")
  set(usr_lib "${prefix}/lib")
endif()
foreach(pair "TRACERMON_SYSTEMD_UNITDIR=${lib}/systemd/system"
             "TRACERMON_UDEV_RULESDIR=${lib}/udev/rules.d"
             "TRACERMON_SYSUSERSDIR=${usr_lib}/sysusers.d")
  string(REGEX MATCH "^[^=]*" var "${pair}")
  string(REGEX REPLACE "^[^=]*=" "" default "${pair}")
  if(NOT ${var})
    set(${var} "${default}")
  endif()
endforeach()

# The unit with this installation's paths.
set(TRACERMON_BINDIR "${prefix}/${BINDIR}")
set(TRACERMON_SYSCONFDIR "${etc}")
configure_file("${SOURCE_DIR}/deploy/systemd/tracermon.service.in"
               "${BINARY_DIR}/deploy/install/tracermon.service" @ONLY)

# file(INSTALL) puts $ENV{DESTDIR} in front of these itself.
file(INSTALL "${BINARY_DIR}/deploy/install/tracermon.service"
     DESTINATION "${TRACERMON_SYSTEMD_UNITDIR}")
file(INSTALL "${SOURCE_DIR}/deploy/udev/60-tracermon.rules" DESTINATION "${TRACERMON_UDEV_RULESDIR}")
file(INSTALL "${SOURCE_DIR}/deploy/sysusers/tracermon.conf" DESTINATION "${TRACERMON_SYSUSERSDIR}")

# The default configuration, but never over one that is there: `make install` on a configured
# machine keeps it (the package has dpkg's conffile handling instead).
if(EXISTS "$ENV{DESTDIR}${etc}/tracermon/tracermon.toml")
  message(STATUS "Kept: $ENV{DESTDIR}${etc}/tracermon/tracermon.toml")
else()
  file(INSTALL "${SOURCE_DIR}/deploy/config/tracermon.toml" DESTINATION "${etc}/tracermon"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
