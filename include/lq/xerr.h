/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xerr: the xapi error codes a failure can be recorded with.
 *
 * err_xapi(code, ...) (lq/err.h) records one of these; only the rpc
 * layer knows how each is printed on the wire (docs/errors.md).  Kept
 * apart from lq/rpc.h so that the library below ops (the store) can name
 * a code without depending on the wire format.
 */
#ifndef LQ_XERR_H
#define LQ_XERR_H

/* Printed as SR_BACKEND_FAILURE errors, params [code, message], the way
 * the Python bindings print an exception: [class name, message]. */
#define XERR_SR_NOT_ATTACHED "Sr_not_attached"
#define XERR_SR_NOT_EXIST "SR_does_not_exist"
#define XERR_VOL_NOT_EXIST "Volume_does_not_exist"
#define XERR_UNIMPLEMENTED "Unimplemented"
#define XERR_ACTIVATED_ELSEWHERE "Activated_on_another_host"
#define XERR_UNMARSHAL "UnmarshalException"
#define XERR_TYPE "TypeError"
#define XERR_INVALID "Invalid_argument"
/* LVM failures by class (lq/lvm.h). */
#define XERR_LVM_EXISTS "Lvm_exists"
#define XERR_LVM_NOT_FOUND "Lvm_not_found"
#define XERR_LVM_META_FULL "Lvm_metadata_full"
#define XERR_LVM_LOCKED "Lvm_locked"
#define XERR_LVM_DEVICE "Lvm_device_refused"
/* XenAPI codes printed as they are, with fixed first params. */
#define XERR_INVALID_SIZE "SR_BACKEND_FAILURE_79"  /* ["VDI Invalid size", detail] */
#define XERR_VDI_IN_USE "SR_BACKEND_FAILURE_24"    /* ["VDIInUse", detail] */
#define XERR_SR_NO_SPACE "SR_BACKEND_FAILURE_44"   /* ["There is insufficient space", detail] */
#define XERR_SR_NOT_EMPTY "SR_NOT_EMPTY"           /* [] */

#endif
