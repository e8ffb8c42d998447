/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* version: the product's version and the facts every Plugin.query result
 * shares, defined once for the volume and the datapath plugins. */
#ifndef LQ_VERSION_H
#define LQ_VERSION_H

#define LVQCOW_VERSION "0.1.0"
#define LVQCOW_VENDOR "lvqcow"
#define LVQCOW_COPYRIGHT "lvqcow contributors"
/* The SMAPIv3 storage interface version the plugins implement. */
#define LVQCOW_API_VERSION "5.0"

#endif
