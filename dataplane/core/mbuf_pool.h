#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "policy/base/result.h"

struct rte_mempool;

namespace lbg::dataplane {

// The packet-buffer pool, owned: freed (with its memory) when this object goes.
//
// With hugepages (production) it is an ordinary DPDK pool. Without them (`--no-huge`: tests,
// replays, benchmarks, small VMs) DPDK's memory is 4 KiB pages: at millions of packets per second
// nearly every mbuf touch then misses the TLB, and the page walks cost more than the work. So the
// pool goes into an external DPDK malloc heap of anonymous memory advised for transparent huge
// pages (no IOVA: fine for the virtual devices that run without hugepages, never used with a NIC).
// Falls back to the plain pool when the kernel refuses; kind() says which one it made.
class PacketPool {
 public:
  static Result<std::unique_ptr<PacketPool>> create(const std::string& name, uint32_t mbufs,
                                                    uint32_t cache, uint16_t dataRoom, int socket);
  ~PacketPool();
  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;

  rte_mempool* get() const { return pool_; }
  const char* kind() const { return kind_; }

 private:
  PacketPool() = default;
  bool createInHugeAdvisedHeap(const std::string& name, uint32_t mbufs, uint32_t cache,
                               uint16_t dataRoom);

  rte_mempool* pool_ = nullptr;
  const char* kind_ = "";
  std::string heap_;     // external heap name, empty when DPDK's own memory is used
  void* map_ = nullptr;  // the mapping behind the heap
  size_t mapBytes_ = 0;
  void* heapMem_ = nullptr;  // the 2 MiB-aligned part of it given to the heap
  size_t heapBytes_ = 0;
};

}  // namespace lbg::dataplane
