// SWF reader: modelling of the machine and the jobs, the drop rules, header
// parsing, gzip, errors with file:line, lenient mode.
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "mlsched/engine.h"
#include "mlsched/sim/trace.h"
#include "status_matchers.h"
#include "test_support.h"

namespace mlsched::sim {
namespace {

using testing_util::FailsWithMessage;

// Line numbers matter: the notes and errors cite them.
// clang-format off
constexpr std::string_view kTiny =
    "; Version: 2.2\n"                                                          // 1
    "; Computer: test machine\n"                                                // 2
    "; MaxNodes: 64\n"                                                          // 3
    "; MaxProcs: 128\n"                                                         // 4
    "; UnixStartTime: 843480031\n"                                              // 5
    ";\n"                                                                       // 6
    "    1      0  10  3600  16 -1 -1  16  7200 -1  1  3  1 -1 -1 -1 -1 -1\n"   // 7
    "    2     30   0    60   4 -1 -1  -1    -1 -1  0  4  2 -1 -1 -1 -1 -1\n"   // 8
    "    3     20   0    -1   8 -1 -1   8  3600 -1  5  3  1 -1 -1 -1 -1 -1\n"   // 9 run time -1
    "\n"                                                                        // 10
    "    4     40   0   100   0 -1 -1   0  3600 -1  1  5  2 -1 -1 -1 -1 -1\n"   // 11 no procs
    "    5     50   0   100  -1 -1 -1  -1  3600 -1  1  5  2 -1 -1 -1 -1 -1\n"   // 12 procs -1
    "    6     50   0   500 256 -1 -1 256   400 -1  1 -1 -1 -1 -1 -1 -1 -1\n"   // 13 too big
    "    7     60   0     1   2 -1 -1   2    -1 -1  3  5  2 -1 -1 -1 -1 -1\n"   // 14 partial
    "\t8\t45.25\t0\t0.5\t1\t-1\t-1\t1\t0\t-1\t-1\t6\t2\t-1\t-1\t-1\t-1\t-1\r\n";  // 15
// clang-format on

TEST(SwfReader, ModelsABareProcessorMachineAndOneTaskPerJob) {
  ReadStats stats;
  absl::StatusOr<Workload> w = ParseSwf(kTiny, "traces/tiny.swf", {}, &stats);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->name, "tiny.swf");
  ASSERT_EQ(w->nodes.size(), 1u);
  EXPECT_EQ(w->nodes[0].name, "swf");
  EXPECT_EQ(w->nodes[0].capacity, ResourceVector::Of(128'000, std::int64_t{1} << 50, 0));
  EXPECT_TRUE(w->nodes[0].gpus.empty());
  EXPECT_EQ(w->unix_start, 843480031 * kSecond);

  // Sorted by submit time: jobs 1 (0 s), 2 (30 s), 8 (45.25 s), 6 (50 s).
  ASSERT_EQ(w->jobs.size(), 4u);
  std::vector<std::int64_t> ids;
  for (const TraceJob& j : w->jobs) ids.push_back(j.trace_id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2, 8, 6}));

  const TraceJob& first = w->jobs[0];
  EXPECT_EQ(first.spec.name, "job-1");
  EXPECT_EQ(first.spec.tenant, "u3");
  EXPECT_EQ(first.spec.user, "u3");
  EXPECT_EQ(first.submit, 0);
  EXPECT_EQ(first.runtime, 3600 * kSecond);
  EXPECT_EQ(first.spec.time_limit, 7200 * kSecond);
  ASSERT_EQ(first.spec.task_groups.size(), 1u);
  EXPECT_EQ(first.spec.task_groups[0].count, 1);
  EXPECT_EQ(first.spec.task_groups[0].per_task, ResourceVector::Of(16'000, 0, 0));
  EXPECT_TRUE(first.spec.Validate().ok());

  // Job 2: no requested processors -> the allocated ones; no requested time -> no limit.
  EXPECT_EQ(w->jobs[1].spec.task_groups[0].per_task.cpu_millis(), 4'000);
  EXPECT_EQ(w->jobs[1].spec.time_limit, 0);
  // Job 8: tabs, decimals, a requested time of 0 (none), unknown status.
  EXPECT_EQ(w->jobs[2].submit, 45'250'000);
  EXPECT_EQ(w->jobs[2].runtime, 500'000);
  EXPECT_EQ(w->jobs[2].spec.time_limit, 0);
  // Job 6: larger than the machine (stays: the engine says infeasible), unknown user.
  EXPECT_EQ(w->jobs[3].spec.task_groups[0].per_task.cpu_millis(), 256'000);
  EXPECT_EQ(w->jobs[3].spec.tenant, "unknown");
  EXPECT_EQ(w->jobs[3].runtime, 500 * kSecond);  // as recorded, past its 400 s limit

  EXPECT_EQ(stats.lines, 15);
  EXPECT_EQ(stats.jobs, 4);
  EXPECT_EQ(stats.skipped, 4);
  EXPECT_EQ(stats.notes,
            (std::vector<std::string>{
                "traces/tiny.swf:9: job 3: run time unknown (-1); skipped",
                "traces/tiny.swf:11: job 4: zero processors; skipped",
                "traces/tiny.swf:12: job 5: processor count unknown (-1); skipped",
                "traces/tiny.swf:14: job 7: partial execution record (status 2, 3 or 4); skipped",
                "traces/tiny.swf: 1 skipped: partial execution record (status 2, 3 or 4)",
                "traces/tiny.swf: 1 skipped: processor count unknown (-1)",
                "traces/tiny.swf: 1 skipped: run time unknown (-1)",
                "traces/tiny.swf: 1 skipped: zero processors",
                "traces/tiny.swf: 1 jobs ran longer than their requested time (the engine ends "
                "them at it)",
            }));
}

TEST(SwfReader, GroupsCanBeTheTenants) {
  absl::StatusOr<Workload> w =
      ParseSwf(kTiny, "tiny.swf", {.swf_tenant = ReadOptions::TenantFrom::kGroup});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->jobs[0].spec.tenant, "g1");
  EXPECT_EQ(w->jobs[0].spec.user, "u3");
  EXPECT_EQ(w->jobs[3].spec.tenant, "unknown");
}

TEST(SwfReader, MachineSizeWithoutMaxProcsIsMaxNodesOrTheLargestJob) {
  const std::string jobs =
      "1 0 0 10 12 -1 -1 12 60 -1 1 1 1 -1 -1 -1 -1 -1\n"
      "2 5 0 10 40 -1 -1 40 60 -1 1 1 1 -1 -1 -1 -1 -1\n";
  absl::StatusOr<Workload> bare = ParseSwf(jobs, "bare.swf");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(bare->nodes[0].capacity.cpu_millis(), 40'000);
  EXPECT_EQ(bare->unix_start, 0);

  absl::StatusOr<Workload> nodes = ParseSwf("; MaxNodes: 100\n" + jobs, "nodes.swf");
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_EQ(nodes->nodes[0].capacity.cpu_millis(), 100'000);

  absl::StatusOr<Workload> small = ParseSwf("; MaxNodes: 16\n" + jobs, "small.swf");
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->nodes[0].capacity.cpu_millis(), 40'000);
}

TEST(SwfReader, SortsUnsortedFilesStably) {
  absl::StatusOr<Workload> w = ParseSwf(
      "1 50 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n"
      "2 10 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n"
      "3 50 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n"
      "4 10 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n",
      "unsorted.swf");
  ASSERT_TRUE(w.ok()) << w.status();
  std::vector<std::int64_t> ids;
  for (const TraceJob& j : w->jobs) ids.push_back(j.trace_id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{2, 4, 1, 3}));
}

TEST(SwfReader, StopsAfterMaxJobs) {
  ReadStats stats;
  absl::StatusOr<Workload> w = ParseSwf(kTiny, "tiny.swf", {.max_jobs = 2}, &stats);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->jobs.size(), 2u);
  EXPECT_EQ(stats.jobs, 2);
  EXPECT_EQ(stats.lines, 8);
  EXPECT_TRUE(FailsWithMessage(ParseSwf(kTiny, "tiny.swf", {.max_jobs = 0}).status(),
                               "tiny.swf: no jobs"));
}

TEST(SwfReader, MalformedLinesAreErrorsWithFileAndLine) {
  const std::string header = "; MaxProcs: 8\n";
  EXPECT_TRUE(FailsWithMessage(
      ParseSwf(header + "1 0 0 abc 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", "kth.swf").status(),
      "kth.swf:2: field 4 (run time) = \"abc\": not a number"));
  EXPECT_TRUE(
      FailsWithMessage(ParseSwf(header + "1 0 0 10 1 -1 -1 1 60 -1 1 1\n", "kth.swf").status(),
                       "kth.swf:2: truncated line: 12 fields; SWF lines have 18"));
  EXPECT_TRUE(FailsWithMessage(
      ParseSwf(header + "1 0 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1 7\n", "kth.swf").status(),
      "kth.swf:2: 19 fields; SWF lines have 18"));
  EXPECT_TRUE(FailsWithMessage(
      ParseSwf(header + "1 -5 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", "kth.swf").status(),
      "kth.swf:2: field 2 (submit time) = \"-5\": negative"));
  EXPECT_TRUE(FailsWithMessage(
      ParseSwf(header + "1 -1 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", "kth.swf").status(),
      "kth.swf:2: field 2 (submit time) = \"-1\": unknown (-1); a job needs a submit time"));
  EXPECT_TRUE(FailsWithMessage(
      ParseSwf(header + "1 0 0 10 1.5 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", "kth.swf").status(),
      "kth.swf:2: field 5 (allocated processors) = \"1.5\": not an integer"));
  EXPECT_TRUE(FailsWithMessage(
      ParseSwf(header + "1 0 0 10 1 -1 -1 1 -7 -1 1 1 1 -1 -1 -1 -1 -1\n", "kth.swf").status(),
      "kth.swf:2: field 9 (requested time) = \"-7\": must be >= 0, or -1 (unknown)"));
  EXPECT_TRUE(FailsWithMessage(
      ParseSwf(header + "1 0 0 10 1 -1 -1 1 60 -1 9 1 1 -1 -1 -1 -1 -1\n", "kth.swf").status(),
      "kth.swf:2: field 11 (status) = \"9\": not a SWF status (-1, 0 to 5)"));
  EXPECT_TRUE(FailsWithMessage(ParseSwf("; MaxProcs: lots\n", "kth.swf").status(),
                               "kth.swf:1: header MaxProcs = \"lots\": not a positive count"));
}

TEST(SwfReader, LenientModeSkipsAndCountsMalformedLines) {
  ReadStats stats;
  absl::StatusOr<Workload> w = ParseSwf(
      "; MaxProcs: lots\n"
      "1 0 0 abc 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n"
      "2 0 0 10 1 -1 -1 1 60\n"
      "3 0 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n",
      "kth.swf", {.lenient = true}, &stats);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->jobs.size(), 1u);
  EXPECT_EQ(w->nodes[0].capacity.cpu_millis(), 1'000);  // MaxProcs ignored: the largest job
  EXPECT_EQ(stats.lines, 4);
  EXPECT_EQ(stats.skipped, 3);
  EXPECT_EQ(stats.notes, (std::vector<std::string>{
                             "kth.swf:1: header MaxProcs = \"lots\": not a positive count",
                             "kth.swf:2: field 4 (run time) = \"abc\": not a number",
                             "kth.swf:3: truncated line: 9 fields; SWF lines have 18",
                             "kth.swf: 3 skipped: malformed",
                         }));
}

TEST(SwfReader, ATraceWithoutJobsIsAnError) {
  EXPECT_TRUE(
      FailsWithMessage(ParseSwf("; MaxProcs: 8\n;\n", "empty.swf").status(), "empty.swf: no jobs"));
  EXPECT_TRUE(FailsWithMessage(ParseSwf("", "empty.swf").status(), "empty.swf: no jobs"));
  EXPECT_TRUE(FailsWithMessage(
      ParseSwf("1 0 0 -1 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", "dropped.swf").status(),
      "dropped.swf: no jobs (1 lines skipped; see the notes)"));
}

std::string TempPath(std::string_view name) {
  return testing_util::TestDir() + "/" + std::string(name);
}

void WriteGzip(const std::string& path, std::string_view text, int members) {
  gzFile out = gzopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  // Split into `members` gzip members, as `cat a.gz b.gz` makes.
  const std::size_t half = text.size() / 2;
  if (members == 1) {
    ASSERT_EQ(gzwrite(out, text.data(), static_cast<unsigned>(text.size())),
              static_cast<int>(text.size()));
    gzclose(out);
    return;
  }
  gzwrite(out, text.data(), static_cast<unsigned>(half));
  gzclose(out);
  out = gzopen(path.c_str(), "ab");
  gzwrite(out, text.data() + half, static_cast<unsigned>(text.size() - half));
  gzclose(out);
}

TEST(SwfReader, ReadsPlainAndGzippedFiles) {
  const std::string plain = TempPath("tiny.swf");
  std::ofstream(plain) << kTiny;
  const std::string packed = TempPath("tiny.swf.gz");
  WriteGzip(packed, kTiny, 1);
  const std::string two_members = TempPath("tiny-2.swf.gz");
  WriteGzip(two_members, kTiny, 2);
  const std::string misnamed = TempPath("tiny-gz.swf");  // gzip is found by its magic bytes
  WriteGzip(misnamed, kTiny, 1);
  for (const std::string& path : {plain, packed, two_members, misnamed}) {
    ReadStats stats;
    absl::StatusOr<Workload> w = ReadSwf(path, {}, &stats);
    ASSERT_TRUE(w.ok()) << path << ": " << w.status();
    EXPECT_EQ(w->jobs.size(), 4u) << path;
    EXPECT_EQ(stats.lines, 15) << path;
    absl::StatusOr<Workload> by_name = ReadTrace(path);
    ASSERT_TRUE(by_name.ok()) << path << ": " << by_name.status();
    EXPECT_EQ(by_name->jobs.size(), 4u) << path;
  }
}

TEST(SwfReader, MissingFileIsNotFoundAndCorruptGzipIsAnError) {
  absl::StatusOr<Workload> missing = ReadSwf(TempPath("no-such.swf"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();

  const std::string packed = TempPath("cut.swf.gz");
  WriteGzip(packed, kTiny, 1);
  std::string bytes;
  {
    std::ifstream in(packed, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(packed, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  EXPECT_TRUE(
      FailsWithMessage(ReadSwf(packed).status(), packed + ": corrupt gzip data: truncated"));
}

TEST(SwfReader, EveryJobSubmitsToAnEngineWithTheWorkloadsNode) {
  absl::StatusOr<Workload> w = ParseSwf(kTiny, "tiny.swf");
  ASSERT_TRUE(w.ok()) << w.status();
  ManualClock clock;
  auto engine = Engine::Create({.clock = &clock}).value();
  ASSERT_TRUE(engine->AddNode(w->nodes[0]).ok());
  for (const TraceJob& j : w->jobs) EXPECT_TRUE(engine->Submit(j.spec).ok()) << j.spec.name;
}

}  // namespace
}  // namespace mlsched::sim
