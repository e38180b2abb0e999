// Embeds include/demo.kimi (the demo checkpoint, written by Scripts/train_demo.py) into the
// binary's read-only data; the assembler finds it on the include path.
#include "kimi_demo.h"

extern const unsigned char kimi_demo_start[];
extern const unsigned char kimi_demo_end[];

__asm__(".section .rodata\n"
        ".balign 64\n"
        ".global kimi_demo_start\n"
        "kimi_demo_start:\n"
        ".incbin \"demo.kimi\"\n"
        ".global kimi_demo_end\n"
        "kimi_demo_end:\n"
        ".previous\n");

const unsigned char *kimi_demo_blob(void) { return kimi_demo_start; }
size_t kimi_demo_blob_size(void) { return (size_t)(kimi_demo_end - kimi_demo_start); }
