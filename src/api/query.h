// Parsing and validation of a layout request's query string (SPEC §2, §11.1-12).
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "select/page_request.h"

namespace tempo::api {

using select::PageRequest;

// A request rejected by validation: the HTTP status, the snake_case code of
// SPEC §11.5 and a human sentence naming the parameter.
struct ApiError {
  int status = 400;
  std::string code;
  std::string message;
};

struct QueryOptions {
  bool allow_preview = false;  // honour `at` (else 400 preview_disabled)
};

// Validates the raw query (the part after '?', without it; may be empty) of a
// GET /api/v{1,2}/tempo/layouts request, applying the checks of §11.6 from
// "each parameter in order of appearance" through the `at` check, first
// failure wins. The path/method and URI-length checks come before this (the
// router does them) and the unknown-tenant check after it (it needs the
// origin). Never throws; safe on arbitrary bytes.
std::variant<PageRequest, ApiError> ParseLayoutQuery(std::string_view raw_query, int api_version,
                                                     const QueryOptions& options);

// Which pattern of §2 a name must match (PartitionValueError).
enum class PartitionField { kTenant, kChannel, kPageType, kPageId };

// The 400 invalid_parameter the layouts query gives for a `value` of `field`
// that does not match its pattern (naming it `name`), or nullopt when it
// matches. For the other places that take these names (the admin cache
// routes, `tempo invalidate`).
std::optional<ApiError> PartitionValueError(PartitionField field, std::string_view name,
                                            std::string_view value);

}  // namespace tempo::api
