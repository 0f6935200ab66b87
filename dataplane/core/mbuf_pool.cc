#include "dataplane/core/mbuf_pool.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdint>

namespace lbg::dataplane {

namespace {

constexpr size_t kHugePage = 2u << 20;

// The pool's objects plus its ring, header and per-lcore caches, with room to spare: the heap
// cannot grow later.
size_t heapBytesFor(uint32_t mbufs, uint16_t dataRoom) {
  rte_mempool_objsz sz{};
  const uint32_t elt = uint32_t(sizeof(rte_mbuf)) + RTE_PKTMBUF_HEADROOM + dataRoom;
  const size_t obj = rte_mempool_calc_obj_size(elt, 0, &sz);
  const size_t bytes = size_t(mbufs) * obj * 5 / 4 + size_t(mbufs) * 16 + (32u << 20);
  return (bytes + kHugePage - 1) / kHugePage * kHugePage;
}

}  // namespace

Result<std::unique_ptr<PacketPool>> PacketPool::create(const std::string& name, uint32_t mbufs,
                                                       uint32_t cache, uint16_t dataRoom,
                                                       int socket) {
  // DPDK names are process-global; replays inside a running gateway create pools repeatedly.
  static std::atomic<uint32_t> serial{0};
  const std::string unique = name + "_" + std::to_string(serial++);
  std::unique_ptr<PacketPool> p(new PacketPool());
  if (rte_eal_has_hugepages() == 0 && p->createInHugeAdvisedHeap(unique, mbufs, cache, dataRoom)) {
    p->kind_ = "transparent huge pages";
    return p;
  }
  p->pool_ = rte_pktmbuf_pool_create(unique.c_str(), mbufs, cache, 0, dataRoom, socket);
  if (p->pool_ == nullptr) {
    return Error{"cannot create mbuf pool '" + name + "' of " + std::to_string(mbufs) +
                 " buffers: " + rte_strerror(rte_errno)};
  }
  p->kind_ = rte_eal_has_hugepages() ? "hugepages" : "4 KiB pages";
  return p;
}

bool PacketPool::createInHugeAdvisedHeap(const std::string& name, uint32_t mbufs, uint32_t cache,
                                         uint16_t dataRoom) {
  heapBytes_ = heapBytesFor(mbufs, dataRoom);
  // THP maps only aligned 2 MiB ranges: over-map, then use the aligned part. Advised before the
  // first touch, so that the kernel backs it with huge pages from the start.
  mapBytes_ = heapBytes_ + kHugePage;
  map_ = mmap(nullptr, mapBytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    return false;
  }
  heapMem_ = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(map_) + kHugePage - 1) &
                                     ~uintptr_t(kHugePage - 1));
  if (madvise(heapMem_, heapBytes_, MADV_HUGEPAGE) != 0) return false;
  if (rte_malloc_heap_create(("thp_" + name).c_str()) != 0) return false;
  heap_ = "thp_" + name;
  // DPDK's own record of the memory: 2 MiB pages without IOVA addresses.
  if (rte_malloc_heap_memory_add(heap_.c_str(), heapMem_, heapBytes_, nullptr,
                                 unsigned(heapBytes_ / kHugePage), kHugePage) != 0) {
    heapMem_ = nullptr;
    return false;
  }
  const int socket = rte_malloc_heap_get_socket(heap_.c_str());
  if (socket < 0) return false;
  pool_ = rte_pktmbuf_pool_create(name.c_str(), mbufs, cache, 0, dataRoom, socket);
  return pool_ != nullptr;
}

PacketPool::~PacketPool() {
  if (pool_ != nullptr) rte_mempool_free(pool_);
  if (!heap_.empty()) {
    if (heapMem_ != nullptr) rte_malloc_heap_memory_remove(heap_.c_str(), heapMem_, heapBytes_);
    rte_malloc_heap_destroy(heap_.c_str());
  }
  if (map_ != nullptr) munmap(map_, mapBytes_);
}

}  // namespace lbg::dataplane
