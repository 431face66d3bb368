#pragma once
// A guard in front of toml++: it builds (and later destroys) nested tables recursively, so a
// table nested 50 000 levels deep ([a.a.a...] or a.a.a... = 1) overflows the stack. This scan
// measures the nesting of TOML text without building anything and finds the first line that
// goes deeper than a limit, so such text is refused before it reaches the parser.
//
// The depth of a value is the number of keys on its path from the root plus the arrays it
// sits in: the parts of the last [table] or [[array]] header (an [[array]] counts one more),
// the parts of a dotted key, each array and each key inside an inline table. `a.b.c = 1`
// and `[a.b]\nc = 1` are 3 deep, `a = [[1]]` is 3, `a = {b = {c = 1}}` is 3.
//
// Strings (all four kinds, with escapes and multi-line), quoted keys and comments are skipped
// as TOML defines them. Text that is not TOML is measured as far as it makes sense; the parser
// reports what is wrong with it.

#include <cstdint>
#include <optional>
#include <string_view>

namespace tracermon::core {

// The limit for tracermon's files, which need at most 4 levels.
inline constexpr int k_max_toml_depth = 32;

// The 1-based line where `text` first nests deeper than `max_depth`; nullopt when it never does.
std::optional<std::uint32_t> toml_too_deep(std::string_view text, int max_depth = k_max_toml_depth);

}  // namespace tracermon::core
