// 7. ids, the HTTP request side: http.request_body of an upload whose body does not come whole
// with its head (a body longer than the head's segment, or chunked), gathered as the client's
// request walk (http_follow.cc, inspect/http/request_stream.h) passes over it and scanned where
// it ends or reaches the inspection limit, before the segment that ends it (or reaches the
// limit) leaves.
//
//   begin    at the head, once its own scan passed (pipeline_ids.cc: idsHttpHead for a later
//            request, idsJudged for the first): a slot of the worker's IdsBodies, the head copied
//            to its start (≤ 8 KiB, what the inspector accepts), when some rule reads
//            http.request_body; a body that came whole with its head was a buffer of that scan
//   gather   every body byte the walk hands out, dechunked, up to idsBodyLimit
//            (IdsRequestGather, ids_request.h); the walk sees each client byte once, in order,
//            before it is forwarded (the normaliser's guarantee: a retransmission repeats judged
//            bytes and is not walked again)
//   scan     the head's buffers again (built from the kept head) and http.request_body, block
//            mode, to_server, judging only the rules that read http.request_body: the others
//            were judged at the head and would fire twice (Engine::scanBuffers' onlyReading),
//            while a rule mixing head and body buffers is matched on the whole transaction, as
//            Suricata's per-transaction detection does
//   early    in ips mode, before the end: each walk's new body bytes (with the 256 before them,
//            so a fast pattern cut by a segment boundary is whole) are searched for the fast
//            patterns of the drop/reject rules that a prefix cannot fool
//            (Engine::earlyBlockBuffers: contents and isdataat only, no negation, endswith,
//            bsize, pcre, flowbit writes or thresholds: a match on the body so far is a match on
//            the whole body); on a hit the request is scanned as below with the body so far,
//            judging only those rules, so the segment carrying the pattern is dropped and the
//            server never receives it
//   act      as every IDS scan (idsAct): a drop denies the flow and the segment that completed
//            the body (or the match) is dropped, so the server never receives a whole request
//
// What it costs: for the other rules (alerts, negations, endswith, pcre, fast patterns in the
// head, patterns longer than the overlap cut by a segment boundary) the segments before the last
// have reached the server (Suricata in IPS mode also inspects request bodies in windows after
// bytes have passed); what they match is stopped before the request is complete. A body that
// finds no free slot follows ids.on_fault (fail closed by default: an attacker holding every slot
// with slow uploads must not get the next upload through unread).

#include <algorithm>
#include <cstring>

#include "dataplane/core/ids_request.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/ids/engine.h"
#include "dataplane/ids/http_head_buffers.h"
#include "dataplane/ids/http_response_buffers.h"
#include "dataplane/inspect/http/request.h"
#include "policy/snapshot.h"

namespace lbg::dataplane {

bool setRequestBody(ids::BufferSet& b, const inspect::HttpRequestHead& head,
                    std::span<const uint8_t> request) {
  if (head.hasTransferEncoding) return false;
  if (!head.hasContentLength || head.contentLengthBad || head.contentLength == 0) return true;
  const auto body = request.subspan(std::min<size_t>(head.headLength, request.size()));
  if (head.contentLength > body.size()) return false;
  // An encoded body is gathered too, to be decoded before its scan (below).
  if (ids::requestContentCodings(request.first(head.headLength)).any()) return false;
  b.set(ids::Buffer::HttpRequestBody, body.first(size_t(head.contentLength)));
  return true;
}

bool Pipeline::idsRequestBodyBegin(Entry& e, IdsRequestFlow& q, IdsBodies& bodies,
                                   std::span<const uint8_t> head) {
  const ids::Engine* engine = snap_->idsEngine();
  // A head cut across segments was gathered at its slot's start (pipeline_ids_http.cc): the
  // slot goes on as the body's, or is given back when no body is gathered.
  const bool inSlot = q.gathering() && head.data() == bodies.head(q.slot);
  if (!engine->inspects(ids::Buffer::HttpRequestBody, ids::kToServer) ||
      (e.meta.flags & kFlowIdsDone)) {
    if (inSlot) q.release(bodies);
    return true;
  }
  if (!inSlot) {
    q.release(bodies);  // a request whose body ended unscanned (cannot: the walk scans at its end)
    q.slot = bodies.acquire(e.meta.initiatorIsLo ? e.key.lo : e.key.hi);
  }
  if (q.slot == IdsBodies::kNoSlot) {
    ++counters_.ids_request_unbuffered;
    if (snap_->idsInline() && !snap_->idsFailOpen()) {
      return idsAct(e, ids::ScanResult{}, "body-buffers", nullptr, true, nullptr);
    }
    return true;  // ids mode or on_fault: pass: this body is not a buffer
  }
  q.bodyLen = 0;
  q.checkedLen = 0;
  q.headLen = uint16_t(std::min<size_t>(head.size(), IdsBodies::kHeadLimit));
  if (!inSlot) std::memcpy(bodies.head(q.slot), head.data(), q.headLen);
  q.codings = ids::requestContentCodings(head.first(q.headLen));
  return true;
}

namespace {

constexpr uint32_t kBody = ids::Engine::bufferBit(ids::Buffer::HttpRequestBody);
// Bytes before a walk's new body bytes searched with them for an early block's fast patterns.
constexpr uint32_t kEarlyOverlap = 256;

// The request as one transaction: the kept head's buffers and the body gathered so far.
// `parsed` holds the Host that http.host points into.
void requestBuffers(IdsRequestFlow& q, IdsBodies& bodies, inspect::HttpRequestHead& parsed,
                    ids::BufferSet& buffers) {
  const std::span<const uint8_t> head{bodies.head(q.slot), q.headLen};
  // http.host is the judged Host (a later request's own, which laterHostAllowed() passed).
  if (inspect::parseHttpRequestHead(head, parsed) == inspect::Status::Done && parsed.hasHost) {
    buffers.set(ids::Buffer::HttpHost, std::string_view(parsed.host, parsed.hostLen));
  }
  ids::fillHttpHeadBuffers(head, bodies.headScratch(), buffers);
  // In its slot, padded (IdsBodies): scanned in place.
  buffers.setPadded(ids::Buffer::HttpRequestBody,
                    std::span<const uint8_t>(bodies.data(q.slot), q.bodyLen));
}

// A body the client sent with a Content-Encoding is decoded before its scan, as a response's
// (the worker's BodyDecoder, bounded by the same limit), so gzip does not hide an upload from
// http.request_body rules; one that does not decode, or names another coding, is scanned as
// sent (as Suricata does).
enum class Decoding { Unsupported, Failed, Decoded };
Decoding decodeRequestBody(IdsRequestFlow& q, IdsBodies& bodies, ids::BufferSet& buffers) {
  if (q.codings.unsupported) return Decoding::Unsupported;
  const ids::BodyDecoder::Result decoded =
      bodies.decoder().decode(q.codings.list(), {bodies.data(q.slot), q.bodyLen});
  if (!decoded.ok) return Decoding::Failed;
  buffers.set(ids::Buffer::HttpRequestBody, decoded.body);
  return Decoding::Decoded;
}

}  // namespace

bool Pipeline::idsScanRequestBody(Entry& e, ids::FlowIdsState& st, IdsRequestFlow& q,
                                  IdsBodies& bodies, ids::Scratch& scratch) {
  ++counters_.ids_http_request_bodies;
  if (q.bodyLen == bodies.limit()) ++counters_.ids_request_body_limit;
  inspect::HttpRequestHead parsed{};
  ids::BufferSet buffers;
  requestBuffers(q, bodies, parsed, buffers);
  if (q.codings.any()) {
    switch (decodeRequestBody(q, bodies, buffers)) {
      case Decoding::Unsupported:
        ++counters_.ids_request_coding_unsupported;
        break;
      case Decoding::Failed:
        ++counters_.ids_request_decode_failed;
        break;
      case Decoding::Decoded:
        ++counters_.ids_request_decoded;
        break;
    }
  }
  ids::Engine::setTime(scratch, now_);
  const ids::ScanResult r =
      snap_->idsEngine()->scanBuffers(st, ids::kToServer, buffers, scratch, kBody);
  q.release(bodies);
  return idsAct(e, r, nullptr, nullptr, true, nullptr);
}

bool Pipeline::idsRequestBodyEarly(Entry& e, ids::FlowIdsState& st, IdsRequestFlow& q,
                                   IdsBodies& bodies, ids::Scratch& scratch) {
  const ids::Engine& engine = *snap_->idsEngine();
  // An encoded body is judged decoded, where it ends (a prefix of a gzip stream is not searched).
  if (!engine.blocksEarly(ids::Buffer::HttpRequestBody) || q.bodyLen == q.checkedLen ||
      q.codings.any()) {
    return true;
  }
  const uint32_t from = q.checkedLen > kEarlyOverlap ? q.checkedLen - kEarlyOverlap : 0;
  q.checkedLen = q.bodyLen;
  if (!engine.earlyHit(ids::Buffer::HttpRequestBody, ids::kToServer,
                       {bodies.data(q.slot) + from, q.bodyLen - from}, scratch)) {
    return true;
  }
  ++counters_.ids_request_body_early;
  inspect::HttpRequestHead parsed{};
  ids::BufferSet buffers;
  requestBuffers(q, bodies, parsed, buffers);
  ids::Engine::setTime(scratch, now_);
  const ids::ScanResult r = engine.scanBuffers(st, ids::kToServer, buffers, scratch, kBody, kBody);
  if (r.action != ids::Verdict::Drop && r.action != ids::Verdict::Reject) return true;
  q.release(bodies);
  return idsAct(e, r, nullptr, nullptr, true, nullptr);
}

}  // namespace lbg::dataplane
