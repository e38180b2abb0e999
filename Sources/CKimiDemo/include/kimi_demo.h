#ifndef KIMI_DEMO_H
#define KIMI_DEMO_H
#include <stddef.h>

/// The demo checkpoint packed by Scripts/train_demo.py, linked into the binary.
const unsigned char *kimi_demo_blob(void);
size_t kimi_demo_blob_size(void);

#endif
