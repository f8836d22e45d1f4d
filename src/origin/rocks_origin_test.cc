// Tests of what only the RocksDB origin (rocks_origin.h) does: its one-writer
// lock, its on-disk layout (rocks_keys.h) and damaged bytes in it,
// secondaries that catch up with a primary, read-only opens, and damaged
// table files. The rules every Origin keeps are in origin_conformance_test.cc.
#include "origin/rocks_origin.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin/coding.h"
#include "origin/origin.h"
#include "origin/origin_test_fixtures.h"
#include "origin/schema_version.h"
#include "rocksdb/db.h"
#include "testing/temp_dir.h"

namespace tempo::origin {
namespace {

using events::Event;
using events::Kind;
using events::Op;
using namespace fixtures;  // the event builders and readers of both backends

class RocksOriginTest : public ::testing::Test, protected OriginUser {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    auto opened = OpenRocksOrigin(dir_.path());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    origin_ = std::move(*opened);
  }
  void Reopen() {
    origin_.reset();
    Open();
  }

  testing::TempDir dir_{"tempo_origin_test"};
};

// ---- durability -------------------------------------------------------------

TEST_F(RocksOriginTest, Rule7_SecondOpenOfSameDirectoryFailsClearly) {
  auto second = OpenRocksOrigin(dir_.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIOError);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().message();
  // The first handle is unaffected.
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 1, {"web"})), ApplyOutcome::kApplied);
}

// Each serve replays sync's WAL into a memtable of its own until sync
// flushes: the store's memtables are 16 MiB, not RocksDB's 64 (the options
// RocksDB records in the store say what it runs with).
TEST_F(RocksOriginTest, MemtablesAreSixteenMebibytes) {
  std::string options_file;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("OPTIONS-") && name > options_file) options_file = name;
  }
  ASSERT_FALSE(options_file.empty());
  std::ifstream in(std::filesystem::path(dir_.path()) / options_file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("write_buffer_size=16777216"), std::string::npos) << options_file;
}

// Writes raw bytes under a tuple key, bypassing the origin (which must be closed).
void PutRaw(const std::string& path, char tag, const std::vector<std::string>& tuple,
            const std::string& value) {
  std::string key(1, tag);
  for (const std::string& element : tuple) AppendTupleElement(&key, element);
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
  ASSERT_TRUE(db->Close().ok());
}

// Reads the raw value of one key of the store at `path` (the origin must be closed).
std::string GetRaw(const std::string& path, char tag, const std::vector<std::string>& tuple) {
  std::string key(1, tag);
  for (const std::string& element : tuple) AppendTupleElement(&key, element);
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  if (db != nullptr) {
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), key, &value).ok());
    EXPECT_TRUE(db->Close().ok());
  }
  return value;
}

// Deletes one key of the store at `path`, bypassing the origin (which must be closed).
void DeleteRaw(const std::string& path, char tag, const std::vector<std::string>& tuple) {
  std::string key(1, tag);
  for (const std::string& element : tuple) AppendTupleElement(&key, element);
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), key).ok());
  ASSERT_TRUE(db->Close().ok());
}

// The value of the schema version key for `version`.
std::string VersionBytes(int64_t version) {
  std::string value;
  AppendFixed64(&value, static_cast<uint64_t>(version));
  return value;
}

// A live record's JSON is written once per row, not also in its record
// entry (a quarter fewer bytes per sync write); export reads it from a row.
// Tombstones, which have no rows, keep theirs in the entry, and entries
// written before this layout (JSON inline, flag clear) still export.
TEST_F(RocksOriginTest, Rule7_RecordJsonLivesInTheRowsAndIsExportedFromThere) {
  const Event module = ModuleEvent("t1", "m1", 3, {"web", "app"}, {"p1"});
  const Event deleted = DeleteEvent(Kind::kModule, "t1", "m2", 4);
  Apply(module);
  Apply(deleted);
  std::vector<StoredRecord> records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].record_json, module.record_json);
  EXPECT_EQ(records[0].version, 3);
  EXPECT_EQ(records[0].published_at, module.published_at);
  EXPECT_EQ(records[1].record_json, deleted.record_json);
  EXPECT_TRUE(records[1].tombstone);
  origin_.reset();

  const std::string entry = GetRaw(dir_.path(), 'r', {"t1", "module", "m1"});
  EXPECT_EQ(entry.find(module.record_json), std::string::npos);
  const std::string row = GetRaw(dir_.path(), 'p', {"t1", "app", kPageType, "p1", "module", "m1"});
  EXPECT_NE(row.find(module.record_json), std::string::npos);

  // The same entry as the earlier layout wrote it: flags 0, the JSON inline.
  std::string_view rest(entry);
  rest.remove_prefix(1 + 8);   // format, version
  ASSERT_EQ(rest[0], '\x02');  // flags: JSON in the rows
  rest.remove_prefix(1);
  std::string_view published_at, json;
  ASSERT_TRUE(ReadLengthPrefixed(&rest, &published_at));
  ASSERT_TRUE(ReadLengthPrefixed(&rest, &json));
  EXPECT_TRUE(json.empty());
  std::string old_layout = entry.substr(0, 9) + '\0';
  AppendLengthPrefixed(&old_layout, published_at);
  AppendLengthPrefixed(&old_layout, module.record_json);
  old_layout += rest;  // the row keys
  PutRaw(dir_.path(), 'r', {"t1", "module", "m1"}, old_layout);
  Open();
  records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].record_json, module.record_json);
  // And an upsert over it replaces the rows it lists, as before.
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 5, {"web"})), ApplyOutcome::kApplied);
  EXPECT_EQ(Summary(Read("app", "p1")), std::vector<RowSummary>{});
  EXPECT_EQ(Records()[0].version, 5);
}

TEST_F(RocksOriginTest, Rule7_CorruptStoredBytesAreReportedNotFatal) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  origin_.reset();
  PutRaw(dir_.path(), 'r', {"t1", "module", "m1"}, "garbage");
  PutRaw(dir_.path(), 'p', {"t1", "web", kPageType, "*", "module", "m2"}, "short");
  Open();
  auto applied = origin_->Apply(ModuleEvent("t1", "m1", 2, {"web"}));
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.status().code(), Status::Code::kCorruption);
  Status listed = origin_->ForEachRecord([](const StoredRecord&) { return Status::OK(); });
  EXPECT_EQ(listed.code(), Status::Code::kCorruption);
  auto read = origin_->ReadScope({"t1", "web", kPageType}, "*");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kCorruption);

  origin_.reset();
  PutRaw(dir_.path(), 't', {"t1"}, "not eight bytes");
  auto reopened = OpenRocksOrigin(dir_.path());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), Status::Code::kCorruption);
}

TEST(RocksOriginOpen, Rule7_UnusablePathIsAnError) {
  testing::TempDir dir;
  std::string file = dir.path() + "/not-a-dir";
  {
    FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  auto opened = OpenRocksOrigin(file + "/db");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kIOError);
}

// ---- the schema version (schema_version.h) ------------------------------------

TEST_F(RocksOriginTest, SchemaVersion_ANewStoreRecordsIt) {
  origin_.reset();
  EXPECT_EQ(GetRaw(dir_.path(), 'v', {}), VersionBytes(kStoreSchemaVersion));
}

TEST_F(RocksOriginTest, SchemaVersion_AStoreWithoutOneOpensAndAWriterRecordsIt) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  origin_.reset();
  DeleteRaw(dir_.path(), 'v', {});  // as tempo 0.15 and earlier left a store
  {
    // Readers read it as version 1, and record nothing.
    auto read_only = OpenRocksReadOnly(dir_.path());
    ASSERT_TRUE(read_only.ok()) << read_only.status().ToString();
    EXPECT_EQ(Summary(*(*read_only)->ReadScope({"t1", "web", kPageType}, "*")),
              (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 1}}));
    testing::TempDir secondary_dir;
    auto secondary = OpenRocksSecondary(dir_.path(), secondary_dir.path());
    ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
    EXPECT_TRUE((*secondary)->CatchUp().ok());
  }
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir_.path(), &raw).ok());
  std::string value;
  EXPECT_TRUE(raw->Get(rocksdb::ReadOptions(), "v", &value).IsNotFound());
  delete raw;

  Open();  // the writer records it
  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 1}}));
  origin_.reset();
  EXPECT_EQ(GetRaw(dir_.path(), 'v', {}), VersionBytes(kStoreSchemaVersion));
}

TEST_F(RocksOriginTest, SchemaVersion_ANewerStoreIsRefusedByEveryOpen) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  origin_.reset();
  const int64_t newer = kStoreSchemaVersion + 1;
  PutRaw(dir_.path(), 'v', {}, VersionBytes(newer));
  const std::string expected = "store schema version " + std::to_string(newer) +
                               " is newer than this tempo supports (" +
                               std::to_string(kStoreSchemaVersion) + "); upgrade tempo";
  testing::TempDir secondary_dir;
  for (const Status& refused :
       {OpenRocksOrigin(dir_.path()).status(), OpenRocksReadOnly(dir_.path()).status(),
        OpenRocksSecondary(dir_.path(), secondary_dir.path()).status()}) {
    EXPECT_EQ(refused.code(), Status::Code::kInvalidArgument) << refused.ToString();
    EXPECT_NE(refused.message().find(expected), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find(dir_.path()), std::string::npos) << refused.message();
  }
  // The refused writer left the version as it was.
  EXPECT_EQ(GetRaw(dir_.path(), 'v', {}), VersionBytes(newer));
}

TEST_F(RocksOriginTest, SchemaVersion_ASecondaryStopsFollowingANewerPrimary) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  testing::TempDir secondary_dir;
  auto secondary = OpenRocksSecondary(dir_.path(), secondary_dir.path());
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  ASSERT_TRUE((*secondary)->CatchUp().ok());
  origin_.reset();
  // A newer tempo's primary takes over the store.
  PutRaw(dir_.path(), 'v', {}, VersionBytes(kStoreSchemaVersion + 1));
  Status caught_up = (*secondary)->CatchUp();
  EXPECT_EQ(caught_up.code(), Status::Code::kInvalidArgument) << caught_up.ToString();
  EXPECT_NE(caught_up.message().find("upgrade tempo"), std::string::npos) << caught_up.message();
}

TEST_F(RocksOriginTest, SchemaVersion_AMalformedOneIsCorruption) {
  origin_.reset();
  PutRaw(dir_.path(), 'v', {}, "1");
  auto reopened = OpenRocksOrigin(dir_.path());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), Status::Code::kCorruption) << reopened.status().ToString();
  PutRaw(dir_.path(), 'v', {}, VersionBytes(0));
  auto read_only = OpenRocksReadOnly(dir_.path());
  ASSERT_FALSE(read_only.ok());
  EXPECT_EQ(read_only.status().code(), Status::Code::kCorruption) << read_only.status().ToString();
}

TEST(StoreSchemaVersion, OnlyVersionsThisReleaseReadsPass) {
  for (int64_t v = kOldestStoreSchemaVersion; v <= kStoreSchemaVersion; ++v) {
    EXPECT_TRUE(CheckStoreSchemaVersion(v, "store").ok()) << v;
  }
  EXPECT_EQ(CheckStoreSchemaVersion(kUnrecordedStoreSchemaVersion, "store").code(),
            Status::Code::kOk);
  Status newer = CheckStoreSchemaVersion(kStoreSchemaVersion + 1, "open /data/store");
  EXPECT_EQ(newer.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(newer.message(), "origin: open /data/store: store schema version " +
                                 std::to_string(kStoreSchemaVersion + 1) +
                                 " is newer than this tempo supports (" +
                                 std::to_string(kStoreSchemaVersion) + "); upgrade tempo");
  EXPECT_EQ(CheckStoreSchemaVersion(0, "store").code(), Status::Code::kCorruption);
}

// ---- touched slices, Sync and secondaries (the sync service's needs) -------

TEST_F(RocksOriginTest, SecondarySeesPrimaryWritesAfterCatchUp) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  testing::TempDir secondary_dir;
  auto secondary = OpenRocksSecondary(dir_.path(), secondary_dir.path());
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  auto rows = (*secondary)->ReadScope({"t1", "web", kPageType}, "*");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Summary(*rows), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 1}}));

  Apply(ModuleEvent("t1", "m1", 2, {"web"}));
  Apply(ModuleEvent("t2", "n1", 1, {"web"}));
  Status caught_up = (*secondary)->CatchUp();
  ASSERT_TRUE(caught_up.ok()) << caught_up.ToString();
  rows = (*secondary)->ReadScope({"t1", "web", kPageType}, "*");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Summary(*rows), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 2}}));
  auto known = (*secondary)->TenantKnown("t2");  // tenant counts are reloaded too
  ASSERT_TRUE(known.ok());
  EXPECT_TRUE(*known);

  // A secondary is read-only, and two may share one primary.
  auto write = (*secondary)->Apply(ModuleEvent("t1", "m1", 9, {"web"}));
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.status().code(), Status::Code::kInvalidArgument);
  const Event event = ModuleEvent("t1", "m1", 9, {"web"});
  const Event* const batch[] = {&event};
  std::vector<ApplyResult> results;
  EXPECT_EQ((*secondary)->ApplyBatch(batch, &results, nullptr).code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(results.empty());
  testing::TempDir other_dir;
  auto other = OpenRocksSecondary(dir_.path(), other_dir.path());
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_TRUE((*other)->CatchUp().ok());
}

// ---- the outbox (origin.h) ---------------------------------------------------

// The pending invalidations as "channel/scope@version ...".
std::string PendingSlices(Origin* origin) {
  auto pending = origin->PendingInvalidations();
  EXPECT_TRUE(pending.ok()) << pending.status().ToString();
  if (!pending.ok()) return pending.status().ToString();
  std::string out;
  for (const SliceTouch& t : *pending) {
    out += t.slice.partition.channel + "/" + t.slice.scope + "@" + std::to_string(t.version) + " ";
  }
  return out;
}

// ApplyBatch over `events` with record_pending.
Status RecordBatch(Origin* origin, const std::vector<Event>& events) {
  std::vector<const Event*> pointers;
  for (const Event& e : events) pointers.push_back(&e);
  std::vector<ApplyResult> results;
  return origin->ApplyBatch(pointers, &results, nullptr, /*record_pending=*/true);
}

// Every key of the store at `path` (the origin must be closed).
std::vector<std::string> RawKeys(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<std::string> keys;
  if (db == nullptr) return keys;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
  it.reset();  // before the database it reads
  EXPECT_TRUE(db->Close().ok());
  return keys;
}

TEST_F(RocksOriginTest, OutboxIsOneReservedKeyBesideTheRecords) {
  ASSERT_TRUE(RecordBatch(origin_.get(), {ModuleEvent("t1", "m1", 1, {"web"}, {"p1"})}).ok());
  ASSERT_TRUE(RecordBatch(origin_.get(), {ModuleEvent("t1", "m2", 1, {"app"})}).ok());
  origin_.reset();
  // One row and one record entry per module, one tenant count, one outbox
  // key and the schema version: the outbox and the version keys are a tag
  // alone, which no tuple key can equal (a tuple key is longer).
  const std::vector<std::string> keys = RawKeys(dir_.path());
  ASSERT_EQ(keys.size(), 7u);
  EXPECT_EQ(keys.front(), "o");
  EXPECT_EQ(keys.back(), "v");
  for (size_t i = 1; i + 1 < keys.size(); ++i) {
    EXPECT_TRUE(keys[i][0] != 'o' && keys[i][0] != 'v') << keys[i];
  }
  Open();
  EXPECT_EQ(PendingSlices(origin_.get()), "app/*@1 ");
}

TEST_F(RocksOriginTest, OutboxIsUntouchedByAFailedBatchAndCorruptBytesAreReported) {
  ASSERT_TRUE(RecordBatch(origin_.get(), {ModuleEvent("t1", "m1", 1, {"web"})}).ok());
  origin_.reset();
  PutRaw(dir_.path(), 'r', {"t1", "module", "bad"}, "garbage");
  Open();
  // The batch fails on the corrupt record entry: none of it is written, outbox included.
  Status failed = RecordBatch(
      origin_.get(), {ModuleEvent("t1", "m2", 1, {"app"}), ModuleEvent("t1", "bad", 2, {"ios"})});
  EXPECT_EQ(failed.code(), Status::Code::kCorruption) << failed.ToString();
  EXPECT_EQ(PendingSlices(origin_.get()), "web/*@1 ");
  EXPECT_TRUE(Read("app").empty());

  origin_.reset();
  PutRaw(dir_.path(), 'o', {}, "\x01\x05short");
  Open();
  auto pending = origin_->PendingInvalidations();
  ASSERT_FALSE(pending.ok());
  EXPECT_EQ(pending.status().code(), Status::Code::kCorruption);
  // Nothing else reads it, and the next recorded batch replaces it.
  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 1}}));
  ASSERT_TRUE(RecordBatch(origin_.get(), {ModuleEvent("t1", "m2", 1, {"app"})}).ok());
  EXPECT_EQ(PendingSlices(origin_.get()), "app/*@1 ");
}

TEST_F(RocksOriginTest, OutboxOfTheWritingPrimaryIsReadableButNotClearableFromASecondary) {
  ASSERT_TRUE(RecordBatch(origin_.get(), {ModuleEvent("t1", "m1", 1, {"web"})}).ok());
  testing::TempDir secondary_dir;
  auto secondary = OpenRocksSecondary(dir_.path(), secondary_dir.path());
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  EXPECT_EQ(PendingSlices(secondary->get()), "web/*@1 ");
  EXPECT_EQ((*secondary)->ClearPendingInvalidations().code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(origin_->ClearPendingInvalidations().ok());
  ASSERT_TRUE((*secondary)->CatchUp().ok());
  EXPECT_EQ(PendingSlices(secondary->get()), "");
}

TEST(RocksOriginOpen, SecondaryOfMissingStoreIsAnError) {
  testing::TempDir dir;
  testing::TempDir secondary_dir;
  auto secondary = OpenRocksSecondary(dir.path() + "/absent", secondary_dir.path());
  ASSERT_FALSE(secondary.ok());
  EXPECT_NE(secondary.status().message().find("secondary"), std::string::npos);
}

// ---- damaged stores and read-only opens (issue 12) ----------------------------

// The table files of the store at `path`.
std::vector<std::string> TableFiles(const std::string& path) {
  std::vector<std::string> tables;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == ".sst") tables.push_back(entry.path().string());
  }
  std::sort(tables.begin(), tables.end());
  return tables;
}

// Everything a reader could change in a directory: each entry's name, size,
// modification time and bytes, and the directory's own modification time.
std::map<std::string, std::string> DirState(const std::string& path) {
  std::map<std::string, std::string> state;
  const auto stamp = [](const std::filesystem::path& p) {
    return std::to_string(std::filesystem::last_write_time(p).time_since_epoch().count());
  };
  state["."] = stamp(path);
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    state[entry.path().filename().string()] = stamp(entry.path()) + " " + bytes;
  }
  return state;
}

void Truncate(const std::string& file, uintmax_t size) {
  std::error_code error;
  std::filesystem::resize_file(file, size, error);
  ASSERT_FALSE(error) << error.message();
}

// Overwrites `count` bytes `from_end` bytes before the end of `file`, keeping its size.
void Scribble(const std::string& file, uintmax_t from_end, size_t count) {
  const uintmax_t size = std::filesystem::file_size(file);
  ASSERT_GE(size, from_end);
  std::fstream f(file, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(size - from_end));
  f.write(std::string(count, '\x5a').data(), static_cast<std::streamsize>(count));
  ASSERT_TRUE(f.good());
}

// A store whose rows are all in table files (closing the primary flushes).
class DamagedStoreTest : public RocksOriginTest {
 protected:
  void SetUp() override {
    RocksOriginTest::SetUp();
    for (int i = 0; i < 50; ++i) Apply(ModuleEvent("t1", "m" + std::to_string(i), 1, {"web"}));
    origin_.reset();
    tables_ = TableFiles(dir_.path());
    ASSERT_EQ(tables_.size(), 1u);
  }

  // Opening the store both ways a reader does fails with Corruption.
  void ExpectOpensFail() {
    testing::TempDir secondary_dir;
    auto secondary = OpenRocksSecondary(dir_.path(), secondary_dir.path());
    ASSERT_FALSE(secondary.ok()) << "a damaged store opened as a secondary";
    EXPECT_EQ(secondary.status().code(), Status::Code::kCorruption)
        << secondary.status().ToString();
    auto read_only = OpenRocksReadOnly(dir_.path());
    ASSERT_FALSE(read_only.ok()) << "a damaged store opened read-only";
    EXPECT_EQ(read_only.status().code(), Status::Code::kCorruption)
        << read_only.status().ToString();
  }

  std::vector<std::string> tables_;
};

// A secondary alone opened these stores as empty ones: every tenant unknown.
TEST_F(DamagedStoreTest, MissingTableFileFailsTheOpen) {
  std::filesystem::remove(tables_[0]);
  ExpectOpensFail();
}

TEST_F(DamagedStoreTest, TruncatedTableFileFailsTheOpen) {
  Truncate(tables_[0], std::filesystem::file_size(tables_[0]) - 100);
  ExpectOpensFail();
}

TEST_F(DamagedStoreTest, TableWithDamagedIndexFailsTheOpen) {
  Scribble(tables_[0], /*from_end=*/300, /*count=*/64);  // the index and footer region
  ExpectOpensFail();
}

// Damage after a reader opened the store is an error from each read, never rows missing.
TEST_F(DamagedStoreTest, TableTruncatedUnderAnOpenReaderFailsEachRead) {
  testing::TempDir secondary_dir;
  auto secondary = OpenRocksSecondary(dir_.path(), secondary_dir.path());
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  auto read_only = OpenRocksReadOnly(dir_.path());
  ASSERT_TRUE(read_only.ok()) << read_only.status().ToString();
  Truncate(tables_[0], 64);
  for (Origin* reader : {secondary->get(), read_only->get()}) {
    auto rows = reader->ReadScope({"t1", "web", kPageType}, "*");
    ASSERT_FALSE(rows.ok()) << rows->size() << " rows";
    EXPECT_TRUE(rows.status().code() == Status::Code::kCorruption ||
                rows.status().code() == Status::Code::kIOError)
        << rows.status().ToString();
    auto page = reader->ReadScope({"t1", "web", kPageType}, "p1");
    EXPECT_FALSE(page.ok());
    Status listed = reader->ForEachRecord([](const StoredRecord&) { return Status::OK(); });
    EXPECT_TRUE(listed.code() == Status::Code::kCorruption ||
                listed.code() == Status::Code::kIOError)
        << listed.ToString();
    auto known = reader->TenantKnown("t1");  // from the counts read at open
    ASSERT_TRUE(known.ok()) << known.status().ToString();
    EXPECT_TRUE(*known);
  }
}

// With several tables the check's read-only open opens only some of them; a
// secondary then leaves out a damaged one it did not open (and every table
// added after it) unless its view is compared with what the MANIFEST lists.
TEST_F(RocksOriginTest, DamagedTableAmongSeveralFailsTheOpenNamingIt) {
  for (int table = 0; table < 3; ++table) {  // three L0 tables: one flush per close
    for (int i = 0; i < 20; ++i) {
      Apply(ModuleEvent("t" + std::to_string(table), "m" + std::to_string(i), 1, {"web"}));
    }
    Reopen();
  }
  origin_.reset();
  const std::vector<std::string> tables = TableFiles(dir_.path());
  ASSERT_EQ(tables.size(), 3u);
  for (const std::string& damaged : tables) {
    testing::TempDir copy;
    std::filesystem::copy(dir_.path(), copy.path(), std::filesystem::copy_options::recursive);
    const std::string file = copy.path() + "/" + std::filesystem::path(damaged).filename().string();
    Scribble(file, /*from_end=*/300, /*count=*/64);
    testing::TempDir secondary_dir;
    auto secondary = OpenRocksSecondary(copy.path(), secondary_dir.path());
    ASSERT_FALSE(secondary.ok()) << file;
    EXPECT_EQ(secondary.status().code(), Status::Code::kCorruption);
    EXPECT_NE(secondary.status().message().find(file), std::string::npos)
        << secondary.status().message();
  }
}

TEST_F(RocksOriginTest, ReadOnlyOpenReadsTheStoreAsAtOpenAndRefusesWrites) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  Apply(ExperimentEvent("t1", "e1", 2, {"web"}));
  // The primary is open and holds the lock: a read-only open needs neither.
  auto read_only = OpenRocksReadOnly(dir_.path());
  ASSERT_TRUE(read_only.ok()) << read_only.status().ToString();
  Apply(ModuleEvent("t2", "n1", 1, {"web"}));  // after the open: not seen

  Origin* reader = read_only->get();
  auto rows = reader->ReadScope({"t1", "web", kPageType}, "*");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(Summary(*rows), (std::vector<RowSummary>{{"*", Kind::kExperiment, "e1", 2},
                                                     {"*", Kind::kModule, "m1", 1}}));
  EXPECT_EQ(*reader->TenantKnown("t1"), true);
  EXPECT_EQ(*reader->TenantKnown("t2"), false);
  std::vector<StoredRecord> listed;
  ASSERT_TRUE(reader
                  ->ForEachRecord([&](const StoredRecord& r) {
                    listed.push_back(r);
                    return Status::OK();
                  })
                  .ok());
  EXPECT_EQ(listed.size(), 2u);
  EXPECT_TRUE(reader->CatchUp().ok());
  EXPECT_EQ(*reader->TenantKnown("t2"), false);  // a read-only open does not tail

  auto write = reader->Apply(ModuleEvent("t1", "m1", 9, {"web"}));
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(reader->ClearPendingInvalidations().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(reader->Sync().ok());
}

TEST_F(RocksOriginTest, ReadOnlyOpenChangesNothingInTheDirectory) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  origin_.reset();  // rows in a table file
  Open();
  Apply(ModuleEvent("t1", "m2", 1, {"web"}));
  origin_.reset();
  const std::map<std::string, std::string> before = DirState(dir_.path());
  {
    auto read_only = OpenRocksReadOnly(dir_.path());
    ASSERT_TRUE(read_only.ok()) << read_only.status().ToString();
    size_t count = 0;
    ASSERT_TRUE((*read_only)
                    ->ForEachRecord([&](const StoredRecord&) {
                      ++count;
                      return Status::OK();
                    })
                    .ok());
    EXPECT_EQ(count, 2u);
  }
  const std::map<std::string, std::string> after = DirState(dir_.path());
  EXPECT_EQ(before.size(), after.size());
  for (const auto& [name, state] : before) {
    auto it = after.find(name);
    ASSERT_NE(it, after.end()) << name << " is gone";
    EXPECT_TRUE(it->second == state) << name << " changed";
  }
  for (const auto& [name, state] : after) EXPECT_EQ(before.count(name), 1u) << name << " is new";
}

TEST(RocksOriginOpen, ReadersOfAPathThatIsNotAStoreFailAndCreateNothing) {
  testing::TempDir dir;
  const std::string absent = dir.path() + "/absent";
  const std::string empty = dir.path() + "/empty";
  const std::string file = dir.path() + "/file";
  std::filesystem::create_directory(empty);
  std::ofstream(file) << "not a store";
  for (const std::string& path : {absent, empty, file}) {
    auto read_only = OpenRocksReadOnly(path);
    ASSERT_FALSE(read_only.ok()) << path;
    EXPECT_EQ(read_only.status().code(), Status::Code::kNotFound) << read_only.status().ToString();
    EXPECT_NE(read_only.status().message().find(path), std::string::npos);
    testing::TempDir secondary_dir;
    auto secondary = OpenRocksSecondary(path, secondary_dir.path());
    ASSERT_FALSE(secondary.ok()) << path;
    EXPECT_EQ(secondary.status().code(), Status::Code::kNotFound) << secondary.status().ToString();
  }
  EXPECT_FALSE(std::filesystem::exists(absent));
  EXPECT_TRUE(std::filesystem::is_empty(empty));
  EXPECT_EQ(std::filesystem::file_size(file), std::string("not a store").size());
}

}  // namespace
}  // namespace tempo::origin
