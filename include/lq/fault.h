/* fault: named fault-injection points for crash tests.
 *
 * Multi-step operations call fault_point("where") right before each step
 * that changes persistent state (a metadata write, a header switch, a
 * chunk of commit).  With LVQCOW_FAULT_AT=N in the environment the Nth
 * point reached in the process calls _exit(99), as a crash or SIGKILL
 * would at that moment; with LVQCOW_FAULT_TRACE set, every point reached
 * is printed to stderr with its number, so a test can count them.  Without
 * either variable a point costs one predictable branch.
 */
#ifndef LQ_FAULT_H
#define LQ_FAULT_H

#define FAULT_EXIT_CODE 99

void fault_point(const char *where);

#endif
