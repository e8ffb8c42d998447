/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* clock: the monotonic time every deadline in the project is measured
 * against (lock waits, NBD handshakes and sends, control clients). */
#ifndef LQ_CLOCK_H
#define LQ_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: never jumps with the wall clock. */
int64_t clock_now_ms(void);

#endif
