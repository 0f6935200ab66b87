#include "dataplane/proxy/async_resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>

#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>

#include "gtest/gtest.h"

namespace lbg::proxy {
namespace {

// Waits for the resolver's eventfd and takes its answers (empty after 10 s: the test fails).
std::vector<AsyncResolver::Answer> next(AsyncResolver& r) {
  std::vector<AsyncResolver::Answer> out;
  for (int i = 0; i < 100 && out.empty(); ++i) {
    pollfd p{r.eventFd(), POLLIN, 0};
    if (poll(&p, 1, 100) > 0) r.take(out);
  }
  return out;
}

std::string text(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family != AF_INET) return "not IPv4";
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
  return buf;
}

// A lookup that waits for "slow.example" until released; every other name answers 192.0.2.1.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int waiting = 0;
  // The lookup shares the gate: a detached resolver thread may still leave it after the test.
  static AsyncResolver::Lookup lookup(const std::shared_ptr<Gate>& g) {
    return [g](const std::string& name, std::vector<sockaddr_storage>& out) {
      if (name == "slow.example") {
        std::unique_lock<std::mutex> lock(g->mu);
        ++g->waiting;
        g->cv.notify_all();
        g->cv.wait(lock, [&] { return g->open; });
      }
      sockaddr_in a{};
      a.sin_family = AF_INET;
      inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
      sockaddr_storage ss{};
      std::memcpy(&ss, &a, sizeof a);
      out.push_back(ss);
      return 0;
    };
  }
  void waitBlocked(int n) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return waiting >= n; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
};

TEST(AsyncResolverTest, ResolvesAddressesAndReportsFailures) {
  auto r = AsyncResolver::create(2, 8);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r.value()->submit(7, "192.0.2.7"));
  auto a = next(*r.value());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].tag, 7u);
  EXPECT_EQ(a[0].error, 0);
  ASSERT_EQ(a[0].addresses.size(), 1u);
  EXPECT_EQ(text(a[0].addresses[0]), "192.0.2.7");

  // RFC 6761: .invalid never resolves.
  ASSERT_TRUE(r.value()->submit(9, "name.invalid"));
  a = next(*r.value());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].tag, 9u);
  EXPECT_NE(a[0].error, 0);
  EXPECT_TRUE(a[0].addresses.empty());
  EXPECT_EQ(r.value()->waiting(), 0u);
}

TEST(AsyncResolverTest, ASlowNameDelaysNoOtherLookup) {
  auto gate = std::make_shared<Gate>();
  auto r = AsyncResolver::create(2, 8, Gate::lookup(gate));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r.value()->submit(1, "slow.example"));
  gate->waitBlocked(1);
  ASSERT_TRUE(r.value()->submit(2, "fast.example"));
  auto a = next(*r.value());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].tag, 2u);  // answered while the slow one still waits
  EXPECT_EQ(r.value()->waiting(), 1u);
  gate->release();
  a = next(*r.value());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].tag, 1u);
  EXPECT_EQ(r.value()->waiting(), 0u);
}

TEST(AsyncResolverTest, WaitingLookupsAreBounded) {
  auto gate = std::make_shared<Gate>();
  auto r = AsyncResolver::create(1, 2, Gate::lookup(gate));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value()->submit(1, "slow.example"));
  EXPECT_TRUE(r.value()->submit(2, "slow.example"));
  EXPECT_FALSE(r.value()->submit(3, "fast.example"));  // refused, not queued without bound
  gate->release();
  std::vector<AsyncResolver::Answer> all;
  while (all.size() < 2) {
    auto a = next(*r.value());
    ASSERT_FALSE(a.empty());
    all.insert(all.end(), a.begin(), a.end());
  }
  EXPECT_TRUE(r.value()->submit(4, "fast.example"));  // room again
  auto a = next(*r.value());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].tag, 4u);
}

TEST(AsyncResolverTest, DestroyingDoesNotWaitForALookupInProgress) {
  auto gate = std::make_shared<Gate>();
  {
    auto r = AsyncResolver::create(1, 4, Gate::lookup(gate));
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r.value()->submit(1, "slow.example"));
    ASSERT_TRUE(r.value()->submit(2, "fast.example"));  // queued behind it, dropped
    gate->waitBlocked(1);
  }  // returns although the lookup still blocks
  gate->release();  // the thread ends on its own, holding the shared state until then
}

TEST(AsyncResolverTest, RefusesBadSizes) {
  EXPECT_FALSE(AsyncResolver::create(0, 8).ok());
  EXPECT_FALSE(AsyncResolver::create(2, 0).ok());
}

}  // namespace
}  // namespace lbg::proxy
