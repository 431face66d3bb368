#include "store/schema.hpp"

#include <fmt/format.h>

#include "store/store_error.hpp"

namespace tracermon::store {
namespace {

// Version 1, the first release.
//
// Samples and rollups are keyed by id = time_ms * 4096 + source (row_key.hpp says why), and
// their data are the blobs of value_codec.hpp.
//
// Sources and fields are interned to small integers: the blobs hold field ids (see
// value_codec.hpp) and source_fields remembers which fields a source ever had.
constexpr std::string_view k_version_1 = R"sql(
PRAGMA application_id = 1414679886;
CREATE TABLE sources(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE fields(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE source_fields(source INTEGER NOT NULL, field INTEGER NOT NULL,
  PRIMARY KEY(source, field)) WITHOUT ROWID;
CREATE TABLE samples(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE rollup_minute(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE rollup_hour(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE rollup_day(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE rollup_pending(level INTEGER NOT NULL, source INTEGER NOT NULL, t INTEGER NOT NULL,
  PRIMARY KEY(level, source, t)) WITHOUT ROWID;
CREATE TABLE energy(source TEXT NOT NULL, period TEXT NOT NULL, generated_kwh REAL NOT NULL,
  consumed_kwh REAL NOT NULL, PRIMARY KEY(source, period)) WITHOUT ROWID;
CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
)sql";

constexpr Migration k_migrations[] = {
    {1, k_version_1},
};

static_assert(k_application_id == 1414679886, "k_version_1 spells the id out");

}  // namespace

std::span<const Migration> schema_migrations() {
  return k_migrations;
}

int schema_version() {
  return k_migrations[std::size(k_migrations) - 1].version;
}

void migrate(Database& db, std::span<const Migration> steps, std::string_view what) {
  int known = steps.empty() ? 0 : steps.back().version;
  // BEGIN IMMEDIATE before reading the version, so two processes cannot both migrate.
  db.exec_or_throw("BEGIN IMMEDIATE", fmt::format("cannot lock {}", what));
  // `transient` is taken before the ROLLBACK, which changes the connection's last error.
  auto rollback_and_throw = [&](const std::string& message, bool transient) {
    (void)db.exec("ROLLBACK");
    throw StoreError(message, transient);
  };
  auto version = db.query_int("PRAGMA user_version");
  auto application = db.query_int("PRAGMA application_id");
  if (!version || !application) {
    rollback_and_throw(fmt::format("cannot read the schema version of {}: {}", what,
                                   (!version ? version.error() : application.error()).message),
                       db.failed_transiently());
  }
  if (application.value() != 0 && application.value() != k_application_id) {
    rollback_and_throw(fmt::format("{} is not a tracermon history database (application id {:#x})",
                                   what, application.value()),
                       false);
  }
  if (version.value() > known) {
    rollback_and_throw(
        fmt::format(
            "{} has schema version {}, newer than this tracermon knows ({}): it was written by a "
            "newer release; upgrade tracermon or point the store at another file",
            what, version.value(), known),
        false);
  }
  for (const auto& step : steps) {
    if (step.version <= version.value()) continue;
    auto status = db.exec(step.sql);
    if (status) status = db.exec(fmt::format("PRAGMA user_version = {}", step.version));
    if (!status) {
      rollback_and_throw(fmt::format("cannot migrate {} to schema version {}: {}", what,
                                     step.version, status.error().message),
                         db.failed_transiently());
    }
  }
  db.exec_or_throw("COMMIT", fmt::format("cannot migrate {}", what));
}

}  // namespace tracermon::store
