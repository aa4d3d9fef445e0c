// Shared input helpers of the trace readers (trace_input.h).
//
// gzip: a file that starts with 0x1f 0x8b is inflated with zlib (windowBits
// 15 + 16: gzip wrapper only); after the end of one member, the next one, if
// any, is read too, as gunzip does.
#include "sim/trace_input.h"

#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "fmt/format.h"

namespace mlsched::internal {

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

absl::Status FileError(const std::string& path, int error) {
  const std::string message = fmt::format("{}: {}", path, std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  if (error == EACCES) return absl::PermissionDeniedError(message);
  return absl::InvalidArgumentError(message);
}

absl::StatusOr<std::string> Gunzip(const std::string& path, std::string_view packed) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK)
    return absl::InternalError(fmt::format("{}: cannot start zlib", path));
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
  std::string out;
  out.resize(std::max<std::size_t>(packed.size() * 4, 1 << 16));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  std::size_t in_left = packed.size();
  std::size_t produced = 0;
  auto corrupt = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("{}: corrupt gzip data: {}", path, why));
  };
  while (true) {
    // zlib counts in uInt; feed and drain at most 1 GiB at a time.
    constexpr std::size_t kChunk = std::size_t{1} << 30;
    if (z.avail_in == 0) {
      z.avail_in = static_cast<uInt>(std::min(in_left, kChunk));
      in_left -= z.avail_in;
    }
    if (produced == out.size()) out.resize(out.size() * 2);
    const std::size_t room = std::min(out.size() - produced, kChunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&z, Z_NO_FLUSH);
    produced += room - z.avail_out;
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0 && in_left == 0) break;
      if (inflateReset(&z) != Z_OK) return corrupt("cannot read the next member");
      continue;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && in_left == 0) return corrupt("truncated");
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return corrupt(z.msg != nullptr ? z.msg : "inflate failed");
  }
  out.resize(produced);
  return out;
}

}  // namespace

absl::StatusOr<std::string> ReadTraceFile(const std::string& path) {
  errno = 0;
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return FileError(path, errno);
  std::string data;
  char buffer[1 << 16];
  while (true) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    data.append(buffer, n);
    if (n < sizeof buffer) {
      if (std::ferror(file.get())) return FileError(path, errno != 0 ? errno : EIO);
      break;
    }
  }
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
      static_cast<unsigned char>(data[1]) == 0x8b) {
    return Gunzip(path, data);
  }
  return data;
}

std::string_view BaseName(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::int64_t> ParseInt(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.front() == '+') return std::nullopt;
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<Duration> ParseSeconds(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() && fraction.empty()) return std::nullopt;
  for (std::string_view part : {whole, fraction})
    for (char c : part)
      if (c < '0' || c > '9') return std::nullopt;
  constexpr __int128 kLimit = __int128{1} << 62;
  __int128 micros = 0;
  for (char c : whole) {
    micros = micros * 10 + (c - '0');
    if (micros * kSecond > kLimit) return std::nullopt;
  }
  micros *= kSecond;
  // The first six decimals are whole microseconds; the seventh rounds.
  std::int64_t scale = kSecond / 10;
  for (std::size_t i = 0; i < fraction.size() && i < 7; ++i) {
    const int digit = fraction[i] - '0';
    if (i < 6) {
      micros += digit * scale;
      scale /= 10;
    } else if (digit >= 5) {
      micros += 1;
    }
  }
  if (micros > kLimit) return std::nullopt;
  return static_cast<Duration>(negative ? -micros : micros);
}

absl::Status SplitCsv(std::string_view line, std::vector<std::string>& cells) {
  cells.clear();
  std::size_t i = 0;
  while (true) {
    std::string cell;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size())
          return absl::InvalidArgumentError(
              fmt::format("cell {}: unterminated quote", cells.size() + 1));
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell += line[i++];
      }
      if (i < line.size() && line[i] != ',') {
        return absl::InvalidArgumentError(
            fmt::format("cell {}: text after the closing quote", cells.size() + 1));
      }
    } else {
      const std::size_t comma = line.find(',', i);
      const std::size_t end = comma == std::string_view::npos ? line.size() : comma;
      cell.assign(line.substr(i, end - i));
      if (cell.find('"') != std::string::npos) {
        return absl::InvalidArgumentError(
            fmt::format("cell {}: a quote inside an unquoted cell", cells.size() + 1));
      }
      i = end;
    }
    cells.push_back(std::move(cell));
    if (i >= line.size()) return absl::OkStatus();
    ++i;  // the comma
  }
}

LineIssues::LineIssues(std::string_view source, const sim::ReadOptions& options,
                       sim::ReadStats* stats)
    : source_(source), lenient_(options.lenient), stats_(stats != nullptr ? stats : &own_) {
  *stats_ = {};
}

absl::Status LineIssues::Error(std::int64_t line, std::string_view why) const {
  return absl::InvalidArgumentError(fmt::format("{}:{}: {}", source_, line, why));
}

void LineIssues::Note(std::int64_t line, std::string_view why) {
  ++stats_->skipped;
  if (stats_->skipped <= kMaxNotes)
    stats_->notes.push_back(fmt::format("{}:{}: {}", source_, line, why));
}

absl::Status LineIssues::Malformed(std::int64_t line, std::string_view why) {
  if (!lenient_) return Error(line, why);
  Note(line, why);
  ++totals_["malformed"];
  return absl::OkStatus();
}

void LineIssues::Drop(std::int64_t line, std::string_view reason, std::string_view detail) {
  Note(line, fmt::format("{}: {}; skipped", detail, reason));
  ++totals_[std::string(reason)];
}

absl::Status LineIssues::Finish(std::int64_t jobs) {
  stats_->jobs = jobs;
  for (const auto& [reason, count] : totals_)
    stats_->notes.push_back(fmt::format("{}: {} skipped: {}", source_, count, reason));
  for (const auto& [what, count] : facts_)
    stats_->notes.push_back(fmt::format("{}: {} {}", source_, count, what));
  if (jobs == 0) {
    return absl::InvalidArgumentError(
        stats_->skipped == 0 ? fmt::format("{}: no jobs", source_)
                             : fmt::format("{}: no jobs ({} lines skipped; see the notes)", source_,
                                           stats_->skipped));
  }
  return absl::OkStatus();
}

}  // namespace mlsched::internal
