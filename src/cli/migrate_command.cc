// `tempo migrate --store postgres://...`: creates the PostgreSQL origin's schema.
#include <iostream>

#include "cli/commands.h"
#include "origin/pg_origin.h"

namespace tempo::cli {

void RegisterMigrate(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "migrate",
      "Create the tables, partitions and function of a PostgreSQL origin store if they do not "
      "exist yet. Idempotent; safe to run while other processes use the store.");
  auto store = std::make_shared<std::string>();
  cmd->add_option("--store", *store, "PostgreSQL store URI (postgres://USER@HOST:PORT/DB)")
      ->required();
  cmd->callback([=] {
    if (!store->starts_with("postgres://") && !store->starts_with("postgresql://")) {
      std::cerr << "tempo migrate: --store must be a postgres:// URI (the embedded store needs "
                   "no migration)\n";
      *exit_code = 1;
      return;
    }
    if (Status s = origin::MigratePostgres(*store); !s.ok()) {
      std::cerr << "tempo migrate: " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    std::cout << "schema ready\n";
  });
}

}  // namespace tempo::cli
