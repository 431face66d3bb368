#pragma once
// The schema of the history database and its forward migrations. `PRAGMA user_version` holds
// the number of migration steps applied; a new release appends steps and never edits old ones.

#include <span>
#include <string_view>

#include "store/sqlite_handle.hpp"

namespace tracermon::store {

struct Migration {
  int version;           // user_version after this step: 1, 2, 3 ... in order
  std::string_view sql;  // one or more statements
};

// "TRMN": set by the first step, so that another program's database is refused.
inline constexpr int k_application_id = 0x54524D4E;

std::span<const Migration> schema_migrations();
int schema_version();  // the version this code writes: the last step's

// Brings `db` up to the last step of `steps`, all pending steps in one transaction. Throws
// StoreError when the database is newer than `steps` know, belongs to another application,
// or a step fails (nothing is then changed).
void migrate(Database& db, std::span<const Migration> steps, std::string_view what);

}  // namespace tracermon::store
