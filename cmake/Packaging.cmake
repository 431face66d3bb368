# Install rules (`make install`, PREFIX/DESTDIR). scripts/build-deb.sh makes the Debian package
# from `cmake --install --prefix /usr`: Debian 12's layout, /usr/bin, /etc, /lib/systemd/system,
# /lib/udev/rules.d, /usr/lib/sysusers.d.
include(GNUInstallDirs)

# Overrides for where systemd, udev and systemd-sysusers look; empty: by the install prefix
# (cmake/InstallSystemFiles.cmake).
set(TRACERMON_SYSTEMD_UNITDIR "" CACHE PATH "systemd unit directory (empty: by prefix)")
set(TRACERMON_UDEV_RULESDIR "" CACHE PATH "udev rules directory (empty: by prefix)")
set(TRACERMON_SYSUSERSDIR "" CACHE PATH "sysusers.d directory (empty: by prefix)")
set(share_dir "${CMAKE_INSTALL_DATADIR}/tracermon")
set(doc_dir "${CMAKE_INSTALL_DOCDIR}")

# The unit as a /usr install has it, for tests/packaging (the installed one is written at
# install time, for the prefix of that install).
set(TRACERMON_BINDIR "/usr/bin")
set(TRACERMON_SYSCONFDIR "/etc")
configure_file(${PROJECT_SOURCE_DIR}/deploy/systemd/tracermon.service.in
               ${PROJECT_BINARY_DIR}/deploy/tracermon.service @ONLY)

# Man page and Debian changelog, compressed as Debian wants them (-n: no name or time stamp).
set(man_gz ${PROJECT_BINARY_DIR}/deploy/tracermon.1.gz)
set(changelog_gz ${PROJECT_BINARY_DIR}/deploy/changelog.Debian.gz)
add_custom_command(OUTPUT ${man_gz}
  COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/docs/man/tracermon.1 > ${man_gz}
  DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/tracermon.1 VERBATIM)
add_custom_command(OUTPUT ${changelog_gz}
  COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/deploy/debian/changelog > ${changelog_gz}
  DEPENDS ${PROJECT_SOURCE_DIR}/deploy/debian/changelog VERBATIM)
add_custom_target(tracermon_install_files ALL DEPENDS ${man_gz} ${changelog_gz})

install(TARGETS tracermon RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${man_gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES deploy/bash-completion/tracermon
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(DIRECTORY deploy/grafana/ DESTINATION ${share_dir}/grafana)
install(DIRECTORY data/battery-profiles DESTINATION ${share_dir})
install(FILES data/usb-adapters.csv DESTINATION ${share_dir})
install(FILES examples/tracermon.toml examples/demo.toml examples/profiles.toml
        DESTINATION ${doc_dir}/examples)
install(FILES README.md DESTINATION ${doc_dir})
install(DIRECTORY docs/ DESTINATION ${doc_dir}/docs PATTERN man EXCLUDE)
install(FILES deploy/debian/copyright ${changelog_gz} DESTINATION ${doc_dir})

# The unit, udev rules, sysusers.d file and default configuration: placed by the prefix of the
# install run (/usr: /etc and /lib; else under the prefix).
install(CODE "
  set(SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(BINARY_DIR \"${PROJECT_BINARY_DIR}\")
  set(BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(TRACERMON_SYSTEMD_UNITDIR \"${TRACERMON_SYSTEMD_UNITDIR}\")
  set(TRACERMON_UDEV_RULESDIR \"${TRACERMON_UDEV_RULESDIR}\")
  set(TRACERMON_SYSUSERSDIR \"${TRACERMON_SYSUSERSDIR}\")")
install(SCRIPT cmake/InstallSystemFiles.cmake)

# What scripts/build-deb.sh needs to know of this build tree: the version and the Debian
# architecture (a cross build's toolchain file sets TRACERMON_DEB_ARCH).
if(NOT TRACERMON_DEB_ARCH)
  execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE TRACERMON_DEB_ARCH
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
file(WRITE ${PROJECT_BINARY_DIR}/deploy/package.env
     "version=${PROJECT_VERSION}\narch=${TRACERMON_DEB_ARCH}\nstrip=${CMAKE_STRIP}\n")
