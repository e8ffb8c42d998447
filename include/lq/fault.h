/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault: named crash points for the fault-injection tests.
 *
 * Every multi-step operation marks the points between its steps with
 * fault_point("name").  When $LVQCOW_FAULT equals that name the process
 * kills itself with SIGKILL right there, exactly as a crash or power cut
 * would stop it; the tests then check that recovery leaves the old or the
 * new state and no damage.  Unset (always, in production) a point costs a
 * string compare.
 *
 * To crash at every point of an operation in turn without knowing their
 * names: LVQCOW_FAULT_TRACE=1 prints "fault point N: name" for each point
 * reached, and LVQCOW_FAULT_AT=N kills (SIGKILL) at the Nth one.
 * LVQCOW_FAULT_SKIP=PREFIX leaves the points whose names start with
 * PREFIX out of that count (a test of one layer skips another's, already
 * proven elsewhere, e.g. "meta-commit.").
 *
 * A few points also stand for a failure the tests cannot otherwise
 * cause there: fault_error("name") returns -1 with an error recorded
 * when $LVQCOW_FAULT_ERROR equals that name, and 0 otherwise. */
#ifndef LQ_FAULT_H
#define LQ_FAULT_H

void fault_point(const char *name);
int fault_error(const char *name);

#endif
