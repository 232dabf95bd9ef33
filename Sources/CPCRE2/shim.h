#ifndef TOLLGATE_CPCRE2_SHIM_H
#define TOLLGATE_CPCRE2_SHIM_H
/// pcre2.h maps its generic names to width-suffixed functions with macros Swift cannot see;
/// fixing the width to 8 makes the `_8` functions (pcre2_compile_8, ...) the ones to call.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif
