// RFC 3339 formatting (civil-date conversion after Howard Hinnant's algorithms).
#include "gen/timestamp.h"

#include <cassert>

namespace tempo::gen {
namespace {

void AppendDigits(int64_t v, int width, std::string* out) {
  char buf[20];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0 && n < 20);
  for (int i = n; i < width; ++i) out->push_back('0');
  while (n > 0) out->push_back(buf[--n]);
}

struct Civil {
  int64_t year;
  int month;
  int day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

}  // namespace

int64_t UnixSecondsOf(int year, int month, int day) {
  const int64_t y = year - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t mp = month > 2 ? month - 3 : month + 9;
  const int64_t doy = (153 * mp + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (era * 146097 + doe - 719468) * kSecondsPerDay;
}

void AppendRfc3339(int64_t unix_seconds, uint32_t nanos, int fraction_digits, int offset_minutes,
                   bool zulu, std::string* out) {
  assert(nanos < 1'000'000'000 && fraction_digits >= 0 && fraction_digits <= 9);
  const int64_t local = unix_seconds + int64_t{offset_minutes} * 60;
  int64_t days = local / kSecondsPerDay;
  int64_t secs = local % kSecondsPerDay;
  if (secs < 0) {
    secs += kSecondsPerDay;
    --days;
  }
  const Civil c = CivilFromDays(days);
  AppendDigits(c.year, 4, out);
  out->push_back('-');
  AppendDigits(c.month, 2, out);
  out->push_back('-');
  AppendDigits(c.day, 2, out);
  out->push_back('T');
  AppendDigits(secs / 3600, 2, out);
  out->push_back(':');
  AppendDigits(secs / 60 % 60, 2, out);
  out->push_back(':');
  AppendDigits(secs % 60, 2, out);
  if (fraction_digits > 0) {
    std::string nine;
    AppendDigits(nanos, 9, &nine);
    out->push_back('.');
    out->append(nine, 0, static_cast<size_t>(fraction_digits));
  }
  if (offset_minutes == 0 && zulu) {
    out->push_back('Z');
    return;
  }
  const int abs_minutes = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  out->push_back(offset_minutes < 0 ? '-' : '+');
  AppendDigits(abs_minutes / 60, 2, out);
  out->push_back(':');
  AppendDigits(abs_minutes % 60, 2, out);
}

}  // namespace tempo::gen
