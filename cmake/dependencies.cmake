# Every third-party library comes from Debian 12's packages (deploy/install-deps.sh).
# Verified lines: ../shared/DEPENDENCIES.md.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json)
find_package(OpenSSL 3 REQUIRED)

# CAF 0.17.6 ships neither a CMake config nor a .pc file.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
find_library(CAF_IO_LIBRARY caf_io REQUIRED)
add_library(CAF::core UNKNOWN IMPORTED)
set_target_properties(CAF::core PROPERTIES IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}" INTERFACE_LINK_LIBRARIES Threads::Threads)
add_library(CAF::io UNKNOWN IMPORTED)
set_target_properties(CAF::io PROPERTIES IMPORTED_LOCATION "${CAF_IO_LIBRARY}"
  INTERFACE_LINK_LIBRARIES CAF::core)

pkg_check_modules(LMDB REQUIRED IMPORTED_TARGET lmdb)

# tomlplusplus 3.3 in Debian: header-only use keeps it simple (one TU compiles it).
find_path(TOMLPP_INCLUDE_DIR toml++/toml.h REQUIRED)

# Xapian 1.4.22's config sets XAPIAN_INCLUDE_DIR / XAPIAN_LIBRARIES only (GPL-2+: see
# DEPENDENCIES.md before shipping a binary that links it). Used by search/ alone.
find_package(xapian 1.4.22 REQUIRED)
if(NOT TARGET Xapian::xapian)
  add_library(Xapian::xapian INTERFACE IMPORTED)
  set_target_properties(Xapian::xapian PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${XAPIAN_INCLUDE_DIR}" INTERFACE_LINK_LIBRARIES "${XAPIAN_LIBRARIES}")
endif()

# search/pinyin.cpp: Han-Latin readings (ICU 72 ships them in its transliterator data).
find_package(ICU 72 REQUIRED COMPONENTS uc i18n)

# media/: oSIP 5.3 parses SIP (DEPENDENCIES.md §4); OpenSSL hashes digest credentials.
pkg_check_modules(OSIP2 REQUIRED IMPORTED_TARGET libosip2)
# The media engine: SRTP (libsrtp2 on NSS), Opus, speexdsp's resampler.
pkg_check_modules(SRTP2 REQUIRED IMPORTED_TARGET libsrtp2)
pkg_check_modules(OPUS REQUIRED IMPORTED_TARGET opus)
pkg_check_modules(SPEEXDSP REQUIRED IMPORTED_TARGET speexdsp)
# spandsp: the in-band DTMF detector and generator (media/dtmf/inband.cpp).
pkg_check_modules(SPANDSP REQUIRED IMPORTED_TARGET spandsp)
# libogg: the call recorder's Ogg Opus pages (media/record/; libopus encodes).
pkg_check_modules(OGG REQUIRED IMPORTED_TARGET ogg)
# The media threads' socket I/O (multishot receives, batched sends); epoll where the
# running kernel refuses it.
pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)
