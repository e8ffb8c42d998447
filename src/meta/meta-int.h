/* meta-int.h: private helpers shared by the files of src/meta/.
 *
 * Document shape (version 1; docs/architecture.md has the full story):
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <lvqcow-sr version="1" generation="N" uuid="U">
 *     <name>TEXT</name> <description>TEXT</description>
 *     <volumes>
 *       <volume key="K" uuid="U" node="N" sharable="false" read-write="true">
 *         <name>TEXT</name> <description>TEXT</description>
 *         <keys> <key> <k>TEXT</k> <v>TEXT</v> </key> ... </keys>
 *       </volume> ...
 *     </volumes>
 *     <nodes> <node uuid="U" parent="P" hidden="false" virtual-size="S" image="I"/> ... </nodes>
 *     <journal> <record id="I" op="O"> <arg> <k>TEXT</k> <v>TEXT</v> </arg> ... </record> </journal>
 *   </lvqcow-sr>
 *   <!-- crc32 XXXXXXXX -->
 * TEXT is the value itself when meta_str_is_xml_safe, otherwise its
 * base64 with the attribute enc="base64".  The trailer is the zlib crc32
 * of every byte before it.
 */
#ifndef LQ_META_INT_H
#define LQ_META_INT_H

#define META_ROOT "lvqcow-sr"
#define META_TRAILER_FMT "<!-- crc32 %08lx -->\n"
#define META_TRAILER_PREFIX "<!-- crc32 "
#define META_TRAILER_LEN 24 /* strlen of one formatted trailer */
#define META_ENC_ATTR "enc"
#define META_ENC_B64 "base64"

#endif
