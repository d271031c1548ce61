/* rt_layout.h - descriptor structs that generated code builds and C reads (rt_model,
 * rt_vi_problem, rt_infer_opts, ...): each is defined once, by an X-macro whose rows begin
 * (field, C type, ABI letter); the C struct and codegen's LLVM struct (cg_struct_type, from
 * the letters) both come from it. Every field is 8 bytes, so field k sits at offset 8k in
 * both: RT_LAYOUT_CHECK states it statically, tests/unit/test_layout.c asks LLVM. */
#ifndef PPL_RT_LAYOUT_H
#define PPL_RT_LAYOUT_H
#include <stddef.h>

/* X for such rows: a field declaration, and the ABI letter as a string ("p" "i" ...). */
#define RT_FIELD_DECL(field, ctype, ...) ctype field;
#define RT_FIELD_LETTER(field, ctype, letter, ...) #letter

/* Field `field` of `type`, row number `index`: 8 bytes at offset 8 * index. */
#define RT_LAYOUT_CHECK(type, field, ctype, index) \
    _Static_assert(sizeof(ctype) == 8 && offsetof(type, field) == 8 * (index), \
                   #type "." #field " is not where generated code puts it");

#endif
