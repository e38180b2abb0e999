// The decoders are header-only (static inline); this file makes the target a library.
#include "kimi_kernels.h"
