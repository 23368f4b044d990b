// Compatibility shim for @jazzer.js/fuzzer's prebuilt fuzzer-linux-*.node on glibc < 2.38.
//
// The prebuilt addon is linked against glibc 2.38 / libstdc++ GLIBCXX_3.4.32 (GCC 13) but uses exactly
// three symbols that older systems (Debian 12: glibc 2.36, GLIBCXX_3.4.30) lack. This library defines
// them; scripts/patch-jazzer.sh builds it next to the .node, makes the .node load it ($ORIGIN rpath)
// and removes the version requirements. See fuzz/README.md.
#include <cstdlib>
#include <ios>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 38))
// glibc >= 2.38 has these symbols (and its headers may redirect strtol to __isoc23_strtol, which
// would make the wrappers below call themselves): the shim is neither needed nor buildable there.
#error "glibc >= 2.38 provides __isoc23_strtol itself; no shim needed"
#endif

extern "C" {
// C23 variants of strtol/strtoul (which also accept a 0b/0B prefix for base 0 or 2). The fuzzer uses
// them to parse its numeric -flags, which never carry a binary prefix, so the C99 functions suffice.
long __isoc23_strtol(const char *nptr, char **endptr, int base) { return std::strtol(nptr, endptr, base); }
unsigned long __isoc23_strtoul(const char *nptr, char **endptr, int base) {
  return std::strtoul(nptr, endptr, base);
}
}

namespace std {
// GCC 13 headers reference this (instead of a per-TU static ios_base::Init) so that the standard
// streams are initialised by libstdc++ itself. An older libstdc++ does not do that, so initialise them
// here: the static Init object constructs cout/cerr/... once (it is reference-counted and harmless
// if the streams already exist).
void ios_base_library_init() { static ios_base::Init init; }
}  // namespace std

namespace {
// Run it when the shim is loaded, i.e. before the addon's own constructors, which may already print.
struct InitAtLoad {
  InitAtLoad() { std::ios_base_library_init(); }
} init_at_load;
}  // namespace
