// `tempo explain --store URI [--l2 ...] QUERY`: why a layouts query gets its
// answer, as the JSON document of api/explain.h, read straight from the
// store (and L2, when given) without a running serve.
#include <chrono>
#include <iostream>

#include "api/explain.h"
#include "cli/commands.h"
#include "cli/l2_flags.h"
#include "cli/output.h"
#include "serve/store_uri.h"

namespace tempo::cli {

void RegisterExplain(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "explain",
      "Explain a layouts query: the request as parsed, the slices read, each experiment's "
      "assignment and each candidate module's fate (kept, or the step that dropped it), as one "
      "JSON document on stdout. `at` in the query is always honoured. Exits 0 with the "
      "document, 2 for a bad query (the API's error body on stdout), 1 when the store cannot "
      "answer or the tenant is unknown.");
  auto store = std::make_shared<std::string>();
  auto l2 = std::make_shared<serve::L2ClientOptions>();
  auto query = std::make_shared<std::string>();
  auto timeout_ms = std::make_shared<int>(5000);
  cmd->add_option("--store", *store,
                  "Origin store: DIR, rocksdb:///DIR or postgres://USER@HOST:PORT/DB")
      ->required();
  AddL2Flags(cmd, l2.get());
  cmd->add_option("--timeout-ms", *timeout_ms, "The longest to wait on L2 and the store")
      ->capture_default_str()
      ->check(CLI::Range(1, 600'000));
  cmd->add_option("query", *query,
                  "The layouts query: 'tenant=..&channel=..&pageType=..[&...]', or a whole "
                  "/api/v2/tempo/layouts?... target")
      ->required();
  cmd->callback([=] {
    auto origin = serve::OpenStoreReadOnly(*store);
    if (!origin.ok()) {
      std::cerr << "tempo explain: " << origin.status().message() << "\n";
      *exit_code = 1;
      return;
    }
    auto l2_client = serve::OpenL2(*l2);
    if (!l2_client.ok()) {
      std::cerr << "tempo explain: " << l2_client.status().message() << "\n";
      *exit_code = 2;
      return;
    }
    // No L1: each slice is read from the tier that holds it, and the
    // document says which.
    api::PageSourceOptions options;
    options.l1.capacity_bytes = 0;
    options.l2 = l2_client->get();
    options.l2_timeout = std::chrono::milliseconds(l2->timeout_ms);
    api::PageSource pages(origin->get(), options);
    std::string_view target = *query;
    if (const size_t mark = target.find('?'); mark != std::string_view::npos) {
      target.remove_prefix(mark + 1);
    }
    http::Response response;
    api::Explain(&pages, target, NowUnixNanos(),
                 std::chrono::steady_clock::now() + std::chrono::milliseconds(*timeout_ms),
                 &response);
    std::cout << response.body << "\n";
    if (Status s = FlushOutput(std::cout, "stdout"); !s.ok()) {
      std::cerr << "tempo explain: " << s.message() << "\n";
      *exit_code = 1;
      return;
    }
    if (response.status != 200) {
      std::cerr << "tempo explain: HTTP status " << response.status << " (body on stdout)\n";
      *exit_code = response.status == 400 ? 2 : 1;
    }
  });
}

}  // namespace tempo::cli
