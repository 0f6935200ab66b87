#pragma once

namespace lbg::flow {

// Starts loading the cache line at `p` into all cache levels. An asm statement rather than
// __builtin_prefetch: GCC 12's IPA mod/ref analysis treats a member function made only of
// __builtin_prefetch calls as free of side effects and deletes its calls, so the flow table's
// burst prefetching silently compiled to nothing (seen in tools/bench/fastpath's disassembly).
inline void prefetch(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const volatile char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace lbg::flow
