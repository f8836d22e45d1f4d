// pg_bench: Apply throughput and ReadScope latency of the PostgreSQL origin
// on loopback, against a throwaway PgServer (figures in docs/benchmarks.md).
//
//   pg_bench [events=10000] [reads=5000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "origin/pg_origin.h"
#include "testing/pg_server.h"

namespace {

using Clock = std::chrono::steady_clock;
using tempo::events::Event;

constexpr int kRowsPerSlice = 40;
constexpr int kTenants = 20;
constexpr int kChannels = 3;

Event Module(const std::string& tenant, const std::string& id, int64_t version,
             const std::string& channel, std::vector<std::string> page_ids) {
  tempo::events::Module m;
  m.id = id;
  m.tenant = tenant;
  m.page_type = "home";
  m.zone = "main";
  m.channels = {channel};
  m.page_ids = std::move(page_ids);
  m.version = version;
  Event e;
  e.key = {tenant, tempo::events::Kind::kModule, id};
  e.version = version;
  e.published_at = "2026-11-22T10:00:00Z";
  // A realistic body size (~600 bytes).
  e.record_json = "{\"id\":\"" + id + "\",\"content\":\"" + std::string(560, 'x') + "\"}";
  e.record = std::move(m);
  return e;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * (v.size() - 1))];
}

int Fail(const tempo::Status& s) {
  std::fprintf(stderr, "pg_bench: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const int events = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int reads = argc > 2 ? std::atoi(argv[2]) : 5000;
  auto server = tempo::testing::PgServer::Start();
  if (!server.ok()) return Fail(server.status());
  auto origin = tempo::origin::OpenPostgresOrigin((*server)->uri());
  if (!origin.ok()) return Fail(origin.status());

  // Apply: modules spread over tenants and channels, half on pages.
  std::vector<Event> batch;
  for (int i = 0; i < events; ++i) {
    std::vector<std::string> pages;
    if (i % 2 == 1) pages = {"p" + std::to_string(i % 7), "p" + std::to_string(i % 11)};
    batch.push_back(Module("tenant" + std::to_string(i % kTenants), "m" + std::to_string(i), 1,
                           "c" + std::to_string(i % kChannels), pages));
  }
  auto start = Clock::now();
  for (const Event& e : batch) {
    auto r = (*origin)->Apply(e);
    if (!r.ok()) return Fail(r.status());
  }
  if (auto s = (*origin)->Sync(); !s.ok()) return Fail(s);
  double apply_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("apply: %d events in %.2f s = %.0f events/s (then one Sync)\n", events, apply_s,
              events / apply_s);

  // A slice of exactly kRowsPerSlice rows.
  for (int i = 0; i < kRowsPerSlice; ++i) {
    auto r = (*origin)->Apply(Module("bench", "slice-" + std::to_string(i), 1, "web", {}));
    if (!r.ok()) return Fail(r.status());
  }
  const tempo::origin::PartitionKey partition{"bench", "web", "home"};
  std::vector<double> us;
  for (int i = 0; i < reads; ++i) {
    auto t0 = Clock::now();
    auto rows = (*origin)->ReadScope(partition, "*");
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!rows.ok()) return Fail(rows.status());
    if (rows->size() != kRowsPerSlice) return Fail(tempo::Status::Internal("wrong row count"));
  }
  std::printf("ReadScope of a %d-row slice: p50 %.0f us, p99 %.0f us, max %.0f us (%d reads)\n",
              kRowsPerSlice, Percentile(us, 0.5), Percentile(us, 0.99), Percentile(us, 1.0), reads);
  return 0;
}
