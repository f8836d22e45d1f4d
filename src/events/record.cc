// Names of record kinds and operations, as they appear in envelopes.
#include "events/record.h"

namespace tempo::events {

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kModule:
      return "module";
    case Kind::kExperiment:
      return "experiment";
    case Kind::kTemplate:
      return "template";
  }
  return "unknown";
}

const char* OpName(Op op) {
  switch (op) {
    case Op::kUpsert:
      return "upsert";
    case Op::kDelete:
      return "delete";
  }
  return "unknown";
}

}  // namespace tempo::events
