// What the trace readers share: reading (and gunzipping) a file, walking its
// lines, the numbers traces are written in, CSV cells, and the bookkeeping of
// malformed and dropped lines (ReadStats, lenient mode, notes).
//
// Assumptions: traces are text with '\n' or "\r\n" line ends; a whole trace
// fits in memory (the largest public ones are a few hundred MB unpacked).
//
//   MLSCHED_ASSIGN_OR_RETURN(std::string text, ReadTraceFile(path));
//   LineIssues issues(path, options, stats);
//   ForEachLine(text, [&](std::int64_t line, std::string_view s) { ...; return true; });
//
// Thread-safety: functions are pure; a LineIssues belongs to one read.
#ifndef MLSCHED_SIM_TRACE_INPUT_H_
#define MLSCHED_SIM_TRACE_INPUT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mlsched/sim/trace.h"
#include "mlsched/time.h"

namespace mlsched::internal {

// The whole file, gunzipped when it starts with the gzip magic bytes (several
// concatenated gzip members are read as one text). Errors: kNotFound for a
// missing file, kPermissionDenied, kInvalidArgument for anything else
// ("<path>: corrupt gzip data: ...").
absl::StatusOr<std::string> ReadTraceFile(const std::string& path);

// "dir/kth.swf.gz" -> "kth.swf.gz".
std::string_view BaseName(std::string_view path);

// Calls visit(line_number, line) for each line (1-based), without its line
// end; stops early when visit returns false. A final line without '\n' is a
// line; an empty text has none.
template <typename Visit>
void ForEachLine(std::string_view text, Visit visit) {
  std::int64_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!visit(++number, line)) return;
  }
}

// Without leading and trailing spaces and tabs.
std::string_view Trim(std::string_view s);

// A decimal integer with an optional sign; nullopt for anything else
// (empty, other characters, out of the int64 range).
std::optional<std::int64_t> ParseInt(std::string_view text);

// Seconds with an optional sign and decimals ("12", "-1", "0.25") as
// microseconds, rounded to the nearest one (halves away from zero); nullopt
// for anything else or beyond ±2^62 microseconds.
std::optional<Duration> ParseSeconds(std::string_view text);

// Splits one CSV line (RFC 4180 cells: a cell may be quoted, with "" for a
// quote inside; no line breaks inside quotes). Errors say why.
absl::Status SplitCsv(std::string_view line, std::vector<std::string>& cells);

// Bookkeeping of one read: malformed lines fail the read unless the options
// are lenient, in which case they are skipped like the lines the format's
// rules drop. Both count in stats.skipped; the first kMaxNotes get a note
// "<source>:<line>: <why>", and Finish() adds a total per reason.
class LineIssues {
 public:
  static constexpr int kMaxNotes = 10;

  // `stats` may be null; it is reset here.
  LineIssues(std::string_view source, const sim::ReadOptions& options, sim::ReadStats* stats);

  sim::ReadStats& stats() { return *stats_; }
  // Names the file that the next lines come from, for a read of several
  // files (their issues count together).
  void set_source(std::string_view source) { source_ = source; }
  const std::string& source() const { return source_; }

  // "<source>:<line>: <why>" as kInvalidArgument.
  absl::Status Error(std::int64_t line, std::string_view why) const;
  // A malformed line: the error, or OK after counting it when lenient.
  absl::Status Malformed(std::int64_t line, std::string_view why);
  // A well-formed line the format's rules leave out. `reason` groups the
  // totals ("run time unknown (-1)"); `detail` goes in front of it in the
  // note ("job 31").
  void Drop(std::int64_t line, std::string_view reason, std::string_view detail);
  // A fact about the trace, noted once at the end: "<count> <what>".
  void Count(std::string_view what) { ++facts_[std::string(what)]; }
  // Adds the totals to the notes; the "no jobs" error when there are none.
  absl::Status Finish(std::int64_t jobs);

 private:
  void Note(std::int64_t line, std::string_view why);

  std::string source_;
  bool lenient_;
  sim::ReadStats own_;
  sim::ReadStats* stats_;
  std::map<std::string, std::int64_t> totals_;  // reason -> skipped lines
  std::map<std::string, std::int64_t> facts_;
};

}  // namespace mlsched::internal

#endif  // MLSCHED_SIM_TRACE_INPUT_H_
