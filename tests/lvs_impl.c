/* The one translation unit of the tests that compiles the implementation. */
#define LVS_IMPLEMENTATION
#include "../lvs.h"
