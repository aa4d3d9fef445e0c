// Backfill with reservations: EASY (depth 1), deeper and conservative.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdlib>
#include <map>
#include <new>
#include <random>

#include "internal/sanitizers.h"
#include "mlsched/engine.h"
#include "test_support.h"

// Counts the allocations made while `counting` is set, for the test that a
// warm reservation walk allocates nothing. The replacement forwards to
// malloc as the library's own does. Not under AddressSanitizer, which
// replaces these itself (to check that each block is freed as allocated).
#if !defined(MLSCHED_ASAN)
namespace {
thread_local bool counting = false;
thread_local std::int64_t allocations = 0;
void* Allocate(std::size_t n, std::size_t align) {
  if (counting) ++allocations;
  void* p = align <= alignof(std::max_align_t) ? std::malloc(n == 0 ? 1 : n)
                                                : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace
void* operator new(std::size_t n) { return Allocate(n, alignof(std::max_align_t)); }
void* operator new(std::size_t n, std::align_val_t a) { return Allocate(n, static_cast<std::size_t>(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif

namespace mlsched {
namespace {

using testing_util::GpuNode;
using testing_util::kGi;
using testing_util::LiveAttempts;

JobSpec Job(std::string name, int gpus, Duration limit, PriorityClass cls = PriorityClass::kMedium, int tasks = 1) {
  return JobSpec{.name = std::move(name), .tenant = "t", .user = "u", .priority_class = cls,
                 .task_groups = {{.count = tasks, .per_task = ResourceVector::Of(1000, kGi, gpus)}},
                 .time_limit = limit};
}

PolicySet Backfill(int depth) {
  return PolicySet{.backfill = BackfillOptions{.reservation_depth = depth}};
}

class BackfillTest : public ::testing::Test {
 protected:
  void Make(PolicySet policies) { engine_ = Engine::Create({.clock = &clock_, .policies = policies}).value(); }
  JobId Submit(JobSpec s) { return engine_->Submit(std::move(s)).value(); }
  bool Started(const SchedulingRound& r, JobId j) {
    for (const Decision& d : r.decisions)
      if (d.kind == DecisionKind::kStart && d.job == j) return true;
    return false;
  }
  void Exit(const SchedulingRound& r, JobId j) {
    for (const Decision& d : r.decisions) {
      if (d.kind != DecisionKind::kStart || d.job != j) continue;
      for (const TaskPlacement& p : r.PlacementsOf(d))
        ASSERT_TRUE(engine_->TaskExited({.job = j, .token = d.token, .task = static_cast<int>(p.task)}).ok());
    }
  }
  // Tenant "t" with a borrowing limit (a quota) under an organisation.
  void LimitTenant() {
    ASSERT_TRUE(engine_->ConfigureTenants({{.name = "org"},
                                           {.name = "t", .parent = "org", .borrowing_limit = ResourceVector::Of(0, 0, 64)}})
                    .ok());
  }
  // One 8-GPU node running a 6-GPU job for up to 2 h; then a high-class
  // 8-GPU head job and `wide` medium 4-GPU jobs with distinct limits (a
  // class each), the last preemptible if asked. Returns the wide jobs.
  std::vector<JobId> RunningJobThenHeadAndWideJobs(int wide, bool last_preemptible, JobId* head) {
    engine_->AddNode(testing_util::GpuNode("n0")).value();
    EXPECT_TRUE(Started(engine_->Tick(), Submit(Job("running", 6, 2 * kHour))));
    *head = Submit(Job("head", 8, kHour, PriorityClass::kHigh));
    std::vector<JobId> ids;
    for (int i = 0; i < wide; ++i) {
      JobSpec w = Job("wide-" + std::to_string(i), 4, (3 + i) * kHour);
      w.preemptible = last_preemptible && i == wide - 1;
      ids.push_back(Submit(w));
    }
    return ids;
  }
  ManualClock clock_{100 * kHour};
  std::unique_ptr<Engine> engine_;
};

// One 8-GPU node; a 6-GPU job runs for up to 2 h; an 8-GPU job waits.
TEST_F(BackfillTest, EasyLetsAShortJobThroughButNotOneThatWouldDelayTheHead) {
  Make(Backfill(1));
  engine_->AddNode(GpuNode("n0")).value();
  const JobId running = Submit(Job("running", 6, 2 * kHour));
  SchedulingRound first = engine_->Tick();
  ASSERT_TRUE(Started(first, running));
  const JobId head = Submit(Job("head", 8, kHour, PriorityClass::kHigh));
  const JobId long_small = Submit(Job("long-small", 2, 3 * kHour));
  const JobId no_limit = Submit(Job("no-limit", 1, 0));
  const JobId short_small = Submit(Job("short-small", 2, kHour));
  const SchedulingRound r = engine_->Tick();
  EXPECT_FALSE(Started(r, head));
  EXPECT_TRUE(Started(r, short_small));  // ends before the head's reservation
  EXPECT_FALSE(Started(r, long_small));  // would hold GPUs past it
  EXPECT_FALSE(Started(r, no_limit));    // may run forever
  const Explanation e = engine_->Explain(head).value();
  EXPECT_EQ(e.expected_start, clock_.Now() + 2 * kHour);
  EXPECT_NE(e.reason.find("reserved"), std::string::npos) << e.reason;
  EXPECT_EQ(engine_->counters().reservations, 1);
}

// Within a pass, room only shrinks: once a one-task job finds none, jobs of
// the same request whose time limit is no shorter are not tried (they would
// meet at least the same reservations) — but a shorter one still is.
TEST_F(BackfillTest, AFailedBackfillSettlesLongerJobsOfItsShapeButNotShorterOnes) {
  Make(Backfill(1));
  engine_->AddNode(GpuNode("n0")).value();
  ASSERT_TRUE(Started(engine_->Tick(), Submit(Job("running", 6, 90 * kMinute))));
  const JobId head = Submit(Job("head", 8, kHour, PriorityClass::kHigh));
  const JobId mid = Submit(Job("mid", 2, 2 * kHour));     // past the head's start at +90 min
  const JobId late = Submit(Job("long", 2, 3 * kHour));   // the same shape, longer: settled
  const JobId brief = Submit(Job("short", 2, kHour));     // the same shape, shorter: tried
  const std::int64_t attempts = engine_->counters().placement_attempts;
  const SchedulingRound r = engine_->Tick();
  EXPECT_FALSE(Started(r, head));
  EXPECT_FALSE(Started(r, mid));
  EXPECT_FALSE(Started(r, late));
  EXPECT_TRUE(Started(r, brief));
  // head, mid and short were tried; long was not.
  EXPECT_EQ(engine_->counters().placement_attempts - attempts, 3);
  const Explanation e = engine_->Explain(late).value();
  EXPECT_EQ(e.verdict, Explanation::Verdict::kWait);
  EXPECT_EQ(e.reason, engine_->Explain(mid).value().reason);
}

// The same for gangs: one task of the shape finding no room settles the
// gangs of its tasks whose estimates are no shorter.
TEST_F(BackfillTest, AFailedBackfillSettlesLongerGangsOfItsTaskShape) {
  Make(Backfill(1));
  engine_->AddNode(GpuNode("n0")).value();
  engine_->AddNode(GpuNode("n1")).value();
  ASSERT_TRUE(Started(engine_->Tick(), Submit(Job("running", 6, 90 * kMinute, PriorityClass::kMedium, 2))));
  const JobId head = Submit(Job("head", 8, kHour, PriorityClass::kHigh, 2));  // reserves both nodes at +90 min
  const JobId mid = Submit(Job("mid", 2, 2 * kHour));                        // no room before the reservation
  const JobId late = Submit(Job("pair-long", 2, 3 * kHour, PriorityClass::kMedium, 2));  // settled
  const JobId brief = Submit(Job("pair-short", 2, kHour, PriorityClass::kMedium, 2));    // tried: fits
  const std::int64_t attempts = engine_->counters().placement_attempts;
  const SchedulingRound r = engine_->Tick();
  EXPECT_FALSE(Started(r, head));
  EXPECT_FALSE(Started(r, mid));
  EXPECT_FALSE(Started(r, late));
  EXPECT_TRUE(Started(r, brief));
  // The head fails on the free-GPU bound before choosing nodes; mid chose
  // once; pair-short twice; pair-long never.
  EXPECT_EQ(engine_->counters().placement_attempts - attempts, 3);
  EXPECT_EQ(engine_->Explain(late).value().verdict, Explanation::Verdict::kWait);
}

TEST_F(BackfillTest, WithoutBackfillSmallJobsOvertakeTheBlockedHead) {
  Make({});
  engine_->AddNode(GpuNode("n0")).value();
  ASSERT_TRUE(Started(engine_->Tick(), Submit(Job("running", 6, 2 * kHour))));
  const JobId head = Submit(Job("head", 8, kHour, PriorityClass::kHigh));
  const JobId long_small = Submit(Job("long-small", 2, 3 * kHour));
  const SchedulingRound r = engine_->Tick();
  EXPECT_FALSE(Started(r, head));
  EXPECT_TRUE(Started(r, long_small));
  EXPECT_EQ(engine_->Explain(head).value().expected_start, 0);
}

TEST_F(BackfillTest, JobsOnNodesTheReservationDoesNotNeedStartFreely) {
  Make(Backfill(1));
  engine_->AddNode(GpuNode("n0")).value();
  engine_->AddNode(GpuNode("n1", 4)).value();
  ASSERT_TRUE(Started(engine_->Tick(), Submit(Job("running", 6, 2 * kHour))));
  const JobId head = Submit(Job("head", 8, kHour, PriorityClass::kHigh));
  const JobId elsewhere = Submit(Job("elsewhere", 4, 10 * kHour));  // only fits n1
  const SchedulingRound r = engine_->Tick();
  EXPECT_FALSE(Started(r, head));
  EXPECT_TRUE(Started(r, elsewhere));
}

TEST_F(BackfillTest, ReservedHeadStartsWhenTheRunningJobEnds) {
  Make(Backfill(1));
  engine_->AddNode(GpuNode("n0")).value();
  const JobId running = Submit(Job("running", 6, 2 * kHour));
  SchedulingRound first = engine_->Tick();
  const JobId head = Submit(Job("head", 8, kHour, PriorityClass::kHigh));
  const JobId filler = Submit(Job("filler", 2, 3 * kHour));
  EXPECT_FALSE(Started(engine_->Tick(), filler));
  clock_.Advance(90 * kMinute);
  Exit(first, running);
  const SchedulingRound r = engine_->Tick();
  EXPECT_TRUE(Started(r, head));
  EXPECT_FALSE(Started(r, filler));
}

TEST_F(BackfillTest, ConservativeReservesForEveryBlockedJob) {
  Make(Backfill(kReserveAll));
  engine_->AddNode(GpuNode("n0")).value();
  ASSERT_TRUE(Started(engine_->Tick(), Submit(Job("running", 6, 2 * kHour))));
  const JobId a = Submit(Job("a", 8, kHour, PriorityClass::kHigh));
  const JobId b = Submit(Job("b", 8, 2 * kHour, PriorityClass::kMedium));
  const JobId c = Submit(Job("c", 4, kHour, PriorityClass::kLow));
  const SchedulingRound r = engine_->Tick();
  EXPECT_TRUE(r.decisions.empty());
  const Timestamp now = clock_.Now();
  EXPECT_EQ(engine_->Explain(a).value().expected_start, now + 2 * kHour);
  EXPECT_EQ(engine_->Explain(b).value().expected_start, now + 3 * kHour);
  EXPECT_EQ(engine_->Explain(c).value().expected_start, now + 5 * kHour);
  EXPECT_EQ(engine_->counters().reservations, 3);
}

TEST_F(BackfillTest, ConservativeCompressesWhenAJobEndsEarly) {
  Make(Backfill(kReserveAll));
  engine_->AddNode(GpuNode("n0")).value();
  const SchedulingRound first = engine_->Tick();
  const JobId running = Submit(Job("running", 8, 2 * kHour));
  const SchedulingRound started = engine_->Tick();
  ASSERT_TRUE(Started(started, running));
  const JobId a = Submit(Job("a", 8, kHour));
  const JobId b = Submit(Job("b", 4, kHour));
  engine_->Tick();
  const Timestamp t0 = clock_.Now();
  EXPECT_EQ(engine_->Explain(a).value().expected_start, t0 + 2 * kHour);
  EXPECT_EQ(engine_->Explain(b).value().expected_start, t0 + 3 * kHour);
  // A later arrival reserves after both: it may delay neither.
  const JobId c = Submit(Job("c", 8, kHour));
  engine_->Tick();
  EXPECT_EQ(engine_->Explain(c).value().expected_start, t0 + 4 * kHour);
  EXPECT_EQ(engine_->Explain(b).value().expected_start, t0 + 3 * kHour);
  // The running job ends 90 minutes early: everyone moves earlier.
  clock_.Advance(30 * kMinute);
  Exit(started, running);
  const SchedulingRound r = engine_->Tick();
  EXPECT_TRUE(Started(r, a));
  EXPECT_EQ(engine_->Explain(b).value().expected_start, clock_.Now() + kHour);
  EXPECT_EQ(engine_->Explain(c).value().expected_start, clock_.Now() + 2 * kHour);
  (void)first;
}

// Conservative backfilling finds a one-task job's earliest start from each
// node's own profile: the earliest over the nodes, here on the second node.
// A CPU-only reservation holding every core of it through [1 h, 2 h) makes a
// later start fail on its cores, not its GPUs; a reservation of 4 GPUs
// through [2 h, 2.5 h) leaves too few GPUs for an 8-GPU job until it ends.
TEST_F(BackfillTest, ConservativeTakesEachJobsEarliestStartOverTheNodes) {
  Make(Backfill(kReserveAll));
  engine_->AddNode(GpuNode("n0")).value();
  engine_->AddNode(GpuNode("n1")).value();
  ASSERT_TRUE(Started(engine_->Tick(), Submit(Job("long", 8, 3 * kHour))));
  ASSERT_TRUE(Started(engine_->Tick(), Submit(Job("short", 8, kHour))));
  const Timestamp t0 = clock_.Now();
  JobSpec all_cores = Job("all-cores", 0, kHour);
  all_cores.task_groups[0].per_task = ResourceVector::Of(64'000, kGi, 0);
  const JobId a = Submit(all_cores);
  const JobId b = Submit(Job("b", 4, 30 * kMinute));
  const JobId c = Submit(Job("c", 8, 2 * kHour));
  engine_->Tick();
  EXPECT_EQ(engine_->Explain(a).value().expected_start, t0 + kHour);
  EXPECT_EQ(engine_->Explain(b).value().expected_start, t0 + 2 * kHour);
  EXPECT_EQ(engine_->Explain(c).value().expected_start, t0 + 2 * kHour + 30 * kMinute);
}

TEST_F(BackfillTest, EasyReservesOnlyTheFirstBlockedJob) {
  Make(Backfill(1));
  engine_->AddNode(GpuNode("n0")).value();
  ASSERT_TRUE(Started(engine_->Tick(), Submit(Job("running", 6, 2 * kHour))));
  const JobId a = Submit(Job("a", 8, kHour, PriorityClass::kHigh));
  const JobId b = Submit(Job("b", 8, 2 * kHour, PriorityClass::kMedium));
  engine_->Tick();
  EXPECT_NE(engine_->Explain(a).value().expected_start, 0);
  EXPECT_EQ(engine_->Explain(b).value().expected_start, 0);
}

// Once the first blocked jobs have their reservations, the blocked classes
// between them and a job that can start have nothing left to do in the
// pass: the pass walks the candidates alone, with or without fair share.
// (With at most 16 reservations a pass such classes are left out of the
// walk from the start, see the next test; here 17.) The outcome is the
// same; the blocked jobs keep their marks from this pass. It does not when
// a passed-over class might come to search or be told it is over quota:
// under preemption with a preemptible job queued or a guarantee configured
// (reclaim), or with a borrowing limit.
TEST_F(BackfillTest, PassWalksOnlyCandidatesOnceNothingElseIsLeftToDecide) {
  enum class Setup { kPlain, kFairShare, kPreemptibleQueued, kGuarantee, kBorrowingLimit };
  for (const Setup setup : {Setup::kPlain, Setup::kFairShare, Setup::kPreemptibleQueued, Setup::kGuarantee,
                            Setup::kBorrowingLimit}) {
    SCOPED_TRACE(static_cast<int>(setup));
    PolicySet policies = Backfill(17);
    if (setup != Setup::kPlain) policies.fair_share = FairShareOptions{};
    if (setup == Setup::kPreemptibleQueued || setup == Setup::kGuarantee) policies.preemption = PreemptionOptions{};
    Make(policies);
    if (setup == Setup::kGuarantee)
      ASSERT_TRUE(engine_->ConfigureTenants({{.name = "t", .guarantee = ResourceVector::Of(0, 0, 1)}}).ok());
    if (setup == Setup::kBorrowingLimit) LimitTenant();
    JobId head;
    const std::vector<JobId> wide = RunningJobThenHeadAndWideJobs(30, setup == Setup::kPreemptibleQueued, &head);
    engine_->Tick();  // every class is a candidate: nothing to pass over
    EXPECT_EQ(engine_->counters().candidate_walks, 0);
    clock_.Advance(kMinute);
    const JobId small = Submit(Job("small", 2, 30 * kMinute, PriorityClass::kLow));
    const SchedulingRound r = engine_->Tick();
    EXPECT_TRUE(Started(r, small));  // ends before the head's reservation
    EXPECT_FALSE(Started(r, head));
    const bool walks = setup == Setup::kPlain || setup == Setup::kFairShare;
    EXPECT_EQ(engine_->counters().candidate_walks, walks ? 1 : 0);  // passing the last 13 wide jobs over
    EXPECT_EQ(engine_->counters().classes_left_out, 0);
    for (JobId w : wide) {
      const Explanation e = engine_->Explain(w).value();
      EXPECT_EQ(e.verdict, Explanation::Verdict::kWait);
      EXPECT_EQ(e.evaluated_at, clock_.Now());
      EXPECT_NE(e.reason.find("room"), std::string::npos) << e.reason;
    }
    EXPECT_NE(engine_->Explain(head).value().expected_start, 0);
  }
}

// A pass leaves out of its walk the blocked classes that can neither start
// nor search, past the first ones in order (with fair share, of each
// tenant), which take
// the reservations (or under strict order end the pass): they would only be
// marked blocked again. The decisions and marks are those of a full walk:
// the first `reservation_depth` blocked jobs reserve, a short job backfills
// (without backfill the head too is left out), every wide job is evaluated
// now. Under preemption a queued preemptible job does not stop it when the
// blocked jobs' searches could not turn (see the next test). Nothing is left
// out where a blocked class might be held to a quota (a borrowing limit).
TEST_F(BackfillTest, PassLeavesOutBlockedClassesPastTheFirstReservations) {
  enum class Setup { kEasy, kDepthThree, kNoBackfill, kFairShare, kPreemption, kPreemptibleQueued, kTenants };
  for (const Setup setup : {Setup::kEasy, Setup::kDepthThree, Setup::kNoBackfill, Setup::kFairShare, Setup::kPreemption,
                            Setup::kPreemptibleQueued, Setup::kTenants}) {
    SCOPED_TRACE(static_cast<int>(setup));
    PolicySet policies = Backfill(setup == Setup::kDepthThree ? 3 : 1);
    if (setup == Setup::kNoBackfill) policies = PolicySet{};
    if (setup == Setup::kFairShare) policies.fair_share = FairShareOptions{};
    if (setup == Setup::kPreemption || setup == Setup::kPreemptibleQueued) policies.preemption = PreemptionOptions{};
    Make(policies);
    if (setup == Setup::kTenants) LimitTenant();
    JobId head;
    const std::vector<JobId> wide = RunningJobThenHeadAndWideJobs(12, setup == Setup::kPreemptibleQueued, &head);
    engine_->Tick();  // every class is tried: nothing is left out
    EXPECT_EQ(engine_->counters().classes_left_out, 0);
    clock_.Advance(kMinute);
    const JobId small = Submit(Job("small", 2, 30 * kMinute, PriorityClass::kLow));
    const SchedulingRound r = engine_->Tick();
    EXPECT_TRUE(Started(r, small));  // it ends before the head's reservation
    EXPECT_FALSE(Started(r, head));
    const int kept = setup == Setup::kDepthThree ? 2 : 0;  // wide jobs among the first blocked
    const bool leaves_out = setup != Setup::kTenants;
    // (Without backfill no runtime estimate splits classes: the wide jobs are one class, left out with the head.)
    const int left_out = setup == Setup::kNoBackfill ? 2 : 12 - kept;
    EXPECT_EQ(engine_->counters().classes_left_out, leaves_out ? left_out : 0);
    EXPECT_EQ(engine_->counters().candidate_walks, 0);
    for (std::size_t i = 0; i < wide.size(); ++i) {
      const Explanation e = engine_->Explain(wide[i]).value();
      EXPECT_EQ(e.verdict, Explanation::Verdict::kWait);
      EXPECT_EQ(e.evaluated_at, clock_.Now());
      EXPECT_NE(e.reason.find("room"), std::string::npos) << e.reason;
      EXPECT_EQ(e.expected_start != 0, static_cast<int>(i) < kept) << i;
    }
    EXPECT_EQ(engine_->Explain(head).value().expected_start != 0, setup != Setup::kNoBackfill);
  }
}

// Under preemption a blocked class stays in the walk while a start later in
// the pass could let its head search: a preemptible job is queued, and the
// room its priority class could free (free GPUs, and preemptible ones below
// it) would hold it. Here 4 GPUs are free, 2 on each node: the 4-GPU jobs fit
// nowhere, and nothing below them is preemptible yet; the small job, once
// started, would be.
TEST_F(BackfillTest, BlockedClassesWhoseSearchCouldTurnStayInTheWalk) {
  for (const bool preemptible : {false, true}) {
    SCOPED_TRACE(preemptible);
    PolicySet policies = Backfill(1);
    policies.preemption = PreemptionOptions{};
    Make(policies);
    engine_->AddNode(GpuNode("n0")).value();
    engine_->AddNode(GpuNode("n1")).value();
    const JobId r0 = Submit(Job("r0", 6, 2 * kHour, PriorityClass::kHigh));
    const JobId r1 = Submit(Job("r1", 6, 2 * kHour, PriorityClass::kHigh));
    const SchedulingRound first = engine_->Tick();
    ASSERT_TRUE(Started(first, r0) && Started(first, r1));
    for (int i = 0; i < 3; ++i) Submit(Job("wide-" + std::to_string(i), 4, (3 + i) * kHour));
    engine_->Tick();
    clock_.Advance(kMinute);
    JobSpec small = Job("small", 1, 30 * kMinute, PriorityClass::kLow);
    small.preemptible = preemptible;
    const JobId s = Submit(small);
    EXPECT_TRUE(Started(engine_->Tick(), s));
    // The first wide job reserves; the other two are left out only when no
    // start could turn their searches.
    EXPECT_EQ(engine_->counters().classes_left_out, preemptible ? 0 : 2);
  }
}

// Under strict order the first blocked job ends the pass even when it was
// blocked last pass and is left out of nothing: a job behind it that would
// fit does not start.
TEST_F(BackfillTest, StrictOrderKeepsTheFirstBlockedJobInTheWalk) {
  Make(PolicySet{.strict_order = true});
  engine_->AddNode(GpuNode("n0")).value();
  ASSERT_TRUE(Started(engine_->Tick(), Submit(Job("running", 6, 2 * kHour))));
  const JobId first = Submit(Job("first", 8, kHour, PriorityClass::kHigh));
  engine_->Tick();  // blocked: it will be a class blocked last pass
  clock_.Advance(kMinute);
  const JobId small = Submit(Job("small", 2, 30 * kMinute, PriorityClass::kLow));
  const SchedulingRound r = engine_->Tick();
  EXPECT_FALSE(Started(r, small));
  EXPECT_FALSE(Started(r, first));
  EXPECT_EQ(engine_->counters().classes_left_out, 0);
}

TEST_F(BackfillTest, GangReservationSpansTheNodesItNeeds) {
  Make(Backfill(1));
  for (int i = 0; i < 3; ++i) engine_->AddNode(GpuNode("n" + std::to_string(i))).value();
  ASSERT_TRUE(Started(engine_->Tick(), Submit(Job("r0", 8, kHour))));
  ASSERT_TRUE(Started(engine_->Tick(), Submit(Job("r1", 8, 3 * kHour))));
  const JobId gang = Submit(Job("gang", 8, kHour, PriorityClass::kHigh, /*tasks=*/2));
  const JobId small = Submit(Job("small", 8, 2 * kHour));  // would take the free node past 1 h
  const SchedulingRound r = engine_->Tick();
  EXPECT_FALSE(Started(r, gang));
  EXPECT_FALSE(Started(r, small));
  EXPECT_EQ(engine_->Explain(gang).value().expected_start, clock_.Now() + kHour);
}

TEST_F(BackfillTest, AJobPastItsEstimateCountsAsEndingNow) {
  Make(Backfill(1));
  engine_->AddNode(GpuNode("n0")).value();
  ASSERT_TRUE(Started(engine_->Tick(), Submit(Job("running", 6, kHour))));
  clock_.Advance(2 * kHour);  // over its limit, still running
  const JobId head = Submit(Job("head", 8, kHour, PriorityClass::kHigh));
  engine_->Tick();
  EXPECT_EQ(engine_->Explain(head).value().expected_start, clock_.Now());
}

// A reservation walk allocates nothing once its buffers have grown. Two
// nodes are full of one-GPU jobs; a gang that needs both whole nodes waits.
// After each exit the walk runs afresh (a release may move the start
// earlier, so the last reservation is not reused), and nothing starts.
TEST_F(BackfillTest, AWarmReservationWalkAllocatesNothing) {
#if defined(MLSCHED_ASAN)
  GTEST_SKIP() << "AddressSanitizer replaces operator new itself";
#else
  Make(Backfill(1));
  engine_->AddNode(GpuNode("n0")).value();
  engine_->AddNode(GpuNode("n1")).value();
  std::vector<JobId> running;
  for (int i = 0; i < 16; ++i) running.push_back(Submit(Job("r" + std::to_string(i), 1, (i + 1) * kHour)));
  const SchedulingRound starts = engine_->Tick();
  ASSERT_EQ(starts.decisions.size(), 16u);
  const JobId gang = Submit(Job("gang", 8, kHour, PriorityClass::kHigh, /*tasks=*/2));
  SchedulingRound round;
  ASSERT_TRUE(engine_->Tick(&round).ok());
  ASSERT_FALSE(Started(round, gang));
  const std::int64_t reservations = engine_->counters().reservations;
  std::int64_t counted = 0;
  for (int i = 0; i < 14; ++i) {
    clock_.Advance(kMinute);
    Exit(starts, running[i]);
    allocations = 0;
    counting = i >= 2;  // the first two walks grow the buffers
    const absl::Status s = engine_->Tick(&round);
    counting = false;
    counted += allocations;
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_TRUE(round.decisions.empty());
  }
  EXPECT_EQ(engine_->counters().reservations - reservations, 14);  // a walk each pass
  EXPECT_EQ(counted, 0);
#endif
}

// n0 runs `b` (6 GPUs, 2 h); n1 runs `a1` (4 GPUs, 3 h) and `a2` (4 GPUs,
// 1 h). An 8-GPU head is reserved on n0 at +2 h. Which job of n1 ends early
// decides whether n1 can take the head sooner.
class BackfillAfterRelease : public BackfillTest {
 protected:
  void SetUp() override {
    Make(Backfill(1));
    engine_->AddNode(GpuNode("n0")).value();
    engine_->AddNode(GpuNode("n1")).value();
    start_ = clock_.Now();
    b_ = Tick(Submit(Job("b", 6, 2 * kHour)));
    a1_ = Tick(Submit(Job("a1", 4, 3 * kHour)));
    a2_ = Tick(Submit(Job("a2", 4, kHour)));
    ASSERT_EQ(NodeOf(a1_), NodeOf(a2_));
    ASSERT_NE(NodeOf(a1_), NodeOf(b_));
    head_ = Submit(Job("head", 8, kHour, PriorityClass::kHigh));
    engine_->Tick();
    ASSERT_EQ(engine_->Explain(head_).value().expected_start, start_ + 2 * kHour);
    clock_.Advance(10 * kMinute);
  }
  SchedulingRound Tick(JobId j) {
    SchedulingRound r = engine_->Tick();
    EXPECT_TRUE(Started(r, j));
    return r;
  }
  static NodeId NodeOf(const SchedulingRound& r) { return r.placements.at(0).node; }

  Timestamp start_ = 0;
  SchedulingRound b_, a1_, a2_;
  JobId head_;
};

TEST_F(BackfillAfterRelease, ReservationMovesEarlierWhenAnotherNodeCanTakeTheHeadSooner) {
  Exit(a1_, a1_.decisions[0].job);  // n1 has 4 GPUs free now and 8 when a2 ends at +1 h
  engine_->Tick();
  EXPECT_EQ(engine_->Explain(head_).value().expected_start, start_ + kHour);
}

TEST_F(BackfillAfterRelease, ReservationStaysWhenTheReleaseCannotStartTheHeadSooner) {
  Exit(a2_, a2_.decisions[0].job);  // n1 still holds a1 until +3 h
  engine_->Tick();
  EXPECT_EQ(engine_->Explain(head_).value().expected_start, start_ + 2 * kHour);
  EXPECT_EQ(engine_->counters().reservations, 2);
}

TEST(BackfillOptions, DepthBelowOneIsRejected) {
  ManualClock clock;
  const absl::Status s =
      Engine::Create({.clock = &clock, .policies = {.backfill = BackfillOptions{.reservation_depth = 0}}}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("reservation_depth = 0"), std::string::npos) << s;
}

// With FIFO order, EASY or conservative backfilling and every job ending by
// its time limit, no job starts later than the first reservation it was given.
RC_GTEST_PROP(EasyBackfill, NoReservedJobStartsLaterThanItsReservation, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  // EASY, or conservative (whose reservations only ever move earlier).
  const int depth = *rc::gen::element(1, kReserveAll);
  std::mt19937_64 rng(seed);
  ManualClock clock(0);
  auto engine = Engine::Create({.clock = &clock, .seed = seed,
                                .policies = {.ordering = NewFifoOrdering(),
                                             .backfill = BackfillOptions{.reservation_depth = depth}}})
                    .value();
  const int nodes = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < nodes; ++i) RC_ASSERT(engine->AddNode(GpuNode("n" + std::to_string(i))).ok());
  LiveAttempts live;
  std::map<std::uint32_t, Timestamp> first_reservation;
  std::map<std::uint32_t, Timestamp> start;
  const int jobs = 40;
  int submitted = 0;
  static const int kGpus[] = {1, 2, 4, 8};
  for (int step = 0; step < 400 && (submitted < jobs || !live.empty() || engine->GetQueueDepth().total > 0); ++step) {
    if (submitted < jobs && rng() % 3 == 0) {
      const int gpus = kGpus[rng() % 4];
      const int tasks = gpus == 8 ? 1 + static_cast<int>(rng() % std::min(2, nodes)) : 1;
      RC_ASSERT(engine->Submit(Job("j" + std::to_string(submitted), gpus,
                                   static_cast<Duration>(1 + rng() % 8) * kHour, PriorityClass::kMedium, tasks))
                    .ok());
      ++submitted;
    }
    SchedulingRound r;
    RC_ASSERT(engine->Tick(&r).ok());
    live.Apply(r, clock.Now(), [&](const Decision& d) {
      start[d.job.value()] = clock.Now();
      const Duration limit = engine->GetSpec(d.job)->time_limit;  // runs within its limit
      return clock.Now() +
             std::max<Duration>(kMinute, static_cast<Duration>(rng() % static_cast<std::uint64_t>(limit + 1)));
    });
    for (JobId j : engine->ListJobs({.state = JobState::kQueued})) {
      const Timestamp t = engine->Explain(j).value().expected_start;
      if (t != 0 && !first_reservation.contains(j.value())) first_reservation[j.value()] = t;
    }
    // Advance to the next end (or a little, to let arrivals come).
    clock.Set(live.NextEnd(clock.Now() + 10 * kMinute));
    RC_ASSERT(live.ExitDue(*engine, clock.Now()));
  }
  RC_CLASSIFY(!first_reservation.empty(), "some jobs were reserved");
  for (const auto& [job, reserved] : first_reservation) {
    auto it = start.find(job);
    if (it != start.end()) RC_ASSERT(it->second <= reserved);
  }
}

}  // namespace
}  // namespace mlsched
