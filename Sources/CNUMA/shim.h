#include <numa.h>
#include <numaif.h>

// libnuma's global masks through functions: Swift 6 refuses references to mutable C globals.
// libnuma sets them once, when it initialises, and never changes them after.
static inline struct bitmask *kimi_numa_all_nodes(void) { return numa_all_nodes_ptr; }
static inline struct bitmask *kimi_numa_all_cpus(void) { return numa_all_cpus_ptr; }
