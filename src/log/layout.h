// Where the embedded log keeps things: the names of topic directories,
// segments, the writers' LOCK and the groups' offset files (see log.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tempo::log {

// OK when `name` is a valid topic or group name (Kafka's topic rule:
// 1-249 characters of [A-Za-z0-9._-], not "." or ".."); else InvalidArgument
// naming `what` ("topic", "group").
Status CheckName(std::string_view what, std::string_view name);

// Creates the log directory `dir` and its missing parents; IOError when
// something that is not a directory is in the way.
Status PrepareLogDir(const std::string& dir);

// OK when the log directory `dir` exists: readers never create it, so a
// mistyped directory is an error rather than an empty log. NotFound when it
// does not exist, IOError when it is not a directory.
Status CheckLogDirExists(const std::string& dir);

std::string TopicDir(const std::string& dir, std::string_view topic);
std::string LockPath(const std::string& topic_dir);
std::string SegmentPath(const std::string& topic_dir, int64_t base_offset);
std::string GroupsDir(const std::string& topic_dir);
std::string OffsetPath(const std::string& topic_dir, std::string_view group);

// The base offsets of the topic's segments, ascending; empty when the
// directory does not exist. Other files in it are ignored.
Result<std::vector<int64_t>> ListSegments(const std::string& topic_dir);

// Whether the segment with base `base_offset` exists (it does once a writer
// has rolled to it).
bool SegmentExists(const std::string& topic_dir, int64_t base_offset);

// The offset `group` committed for the topic in `topic_dir` (the next one
// it will read); -1 when it has committed none. Corruption when the file
// holds no offset.
Result<int64_t> ReadCommittedOffset(const std::string& topic_dir, std::string_view group);

// The groups that have committed an offset for the topic in `topic_dir`,
// ascending; empty when none has. Other files in groups/ (a commit's temp
// file) are ignored.
Result<std::vector<std::string>> ListGroups(const std::string& topic_dir);

// The topics of the log in `dir` (its subdirectories with a valid topic
// name), ascending.
Result<std::vector<std::string>> ListTopics(const std::string& dir);

}  // namespace tempo::log
