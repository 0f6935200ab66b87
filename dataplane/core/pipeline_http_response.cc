// 7. ids, the HTTP response side: http.stat_code, http.response_body and file.data of the
// responses a server sends on an allowed HTTP flow, scanned before the segment that completes
// them leaves (stageIds, pipeline_ids.cc, hands each in-order server segment here after its
// payload scan, only when some rule of the engine reads one of these buffers).
//
//   follow     the server's bytes through the flow's response follower
//              (dataplane/ids/http_response_buffers.h): status line, headers, body framed by
//              Content-Length, chunked (dechunked) or until the close, responses matched to the
//              client's requests in order (a HEAD's response, 204, 304: no body)
//   gather     the body's first idsBodyLimit bytes into one of the worker's body buffers
//              (ids_bodies.h), taken at the response's first body byte, given back at its end;
//              when a rule reads the response's header buffers, its head too (up to 8 KiB, the
//              slot taken at the head's first byte), built at the scan as Suricata builds them
//              (http.header without Set-Cookie, http.header_names, http.cookie = Set-Cookie,
//              http.content_type; http_head_buffers.h)
//   decode     a body with Content-Encoding gzip or deflate (at most two layers) is decoded at
//              its scan (dataplane/ids/body_decoder.h), its first idsBodyLimit bytes, as
//              libhtp does for Suricata; one that is not what its coding says, or carries another
//              coding (br, three layers), is scanned as sent, which is what a client that does
//              not decode it receives, and counted
//   scan       once per response, block mode, direction to_client: where the body ends, reaches
//              the limit (the rest counted, not scanned), or the server closes a body that runs
//              until the close; a response without body at its head's end
//   act        as every IDS scan (idsAct): a drop drops the segment that completed the response
//              (so the client never gets its end) and denies the flow
//
// Why once per response, at its end: a rule's positions (content offset/depth, startswith,
// isdataat) count from the body's start, and its contents may lie in different segments, so the
// body is matched as Suricata matches it only as one buffer; scanning each segment's piece would
// both miss such rules and fire the others once per piece. What this costs: the segments before
// the one that completes the response have left when it is scanned (Suricata in IPS mode also
// inspects response bodies in windows after some bytes have passed); the client gets a partial
// file and a reset.

#include <algorithm>
#include <cstring>

#include "dataplane/core/ids_response.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/ids/engine.h"
#include "policy/snapshot.h"

namespace lbg::dataplane {

namespace {

// The head's bytes go to the start of the response's slot (taken here, at its first byte), up to
// kHeadLimit: a longer head is not complete there, so its header buffers are not set (the
// request side's inspector refuses heads past the same 8 KiB).
void gatherHead(IdsResponseFlow& r, IdsBodies& bodies, const IpAddr& client,
                std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  if (r.bodySlot == IdsBodies::kNoSlot) {
    if (r.unbuffered) return;
    r.bodySlot = bodies.acquire(client);
    if (r.bodySlot == IdsBodies::kNoSlot) return;  // the body's turn counts it
  }
  const size_t n = std::min<size_t>(bytes.size(), IdsBodies::kHeadLimit - r.headLen);
  std::memcpy(bodies.head(r.bodySlot) + r.headLen, bytes.data(), n);
  r.headLen = uint16_t(r.headLen + n);
}

}  // namespace

bool Pipeline::idsScanResponse(Entry& e, ids::FlowIdsState& st, IdsResponseFlow& r,
                               IdsBodies& bodies, ids::Scratch& scratch, Unit& u,
                               TxSink& tx) {
  r.scanned = true;
  ++counters_.ids_http_responses;
  ids::BufferSet buffers;
  buffers.set(ids::Buffer::HttpStatCode, r.http.statusCode());
  if (r.bodySlot != IdsBodies::kNoSlot && r.headLen > 0) {
    ids::fillHttpHeadBuffers({bodies.head(r.bodySlot), r.headLen}, bodies.headScratch(), buffers,
                             ids::HttpHeadKind::Response);
  }
  if (r.bodySlot != IdsBodies::kNoSlot && r.bodyLen > 0) {
    std::span<const uint8_t> body{bodies.data(r.bodySlot), r.bodyLen};
    bool inSlot = true;  // padded (IdsBodies): scanned in place
    if (r.http.codingUnsupported) {
      ++counters_.ids_response_coding_unsupported;
    } else if (r.http.codingCount > 0) {
      const ids::BodyDecoder::Result decoded =
          bodies.decoder().decode(r.http.contentCodings(), body);
      if (decoded.ok) {
        body = decoded.body;
        inSlot = false;
        ++counters_.ids_response_decoded;
      } else {
        ++counters_.ids_response_decode_failed;
      }
    }
    for (ids::Buffer b : {ids::Buffer::HttpResponseBody, ids::Buffer::FileData})
      inSlot ? buffers.setPadded(b, body) : buffers.set(b, body);
  }
  ids::Engine::setTime(scratch, now_);
  const ids::ScanResult res = snap_->idsEngine()->scanBuffers(st, ids::kToClient, buffers, scratch);
  return idsAct(e, res, nullptr, &u, false, &tx);
}

bool Pipeline::idsHttpResponse(Entry& e, ids::FlowIdsState& st, IdsResponseFlow& r,
                               IdsBodies& bodies, ids::Scratch& scratch,
                               std::span<const uint8_t> bytes, bool fin, Unit& u, TxSink& tx) {
  using Kind = ids::HttpResponseStep::Kind;
  using Phase = ids::HttpResponseState::Phase;
  const bool readsHead = idsReadsResponseHead(*snap_->idsEngine());
  for (;;) {
    const Phase before = r.http.phase;
    const ids::HttpResponseStep step = ids::stepHttpResponse(r.http, bytes);
    if (readsHead && (before == Phase::StatusLine || before == Phase::Headers)) {
      if (before == Phase::Headers && r.http.phase == Phase::StatusLine) {
        r.headLen = 0;  // an interim (1xx) head ended: the final response's head follows
      } else {
        gatherHead(r, bodies, st.tuple.client, bytes.first(step.used));
      }
    }
    bytes = bytes.subspan(step.used);
    switch (step.kind) {
      case Kind::HeadDone:
        r.scanned = r.unbuffered = false;
        r.bodyLen = 0;
        break;
      case Kind::Body: {
        if (r.scanned) {  // past the limit: already scanned
          counters_.ids_response_body_beyond += step.body.size();
          break;
        }
        if (r.bodySlot == IdsBodies::kNoSlot && !r.unbuffered) {
          r.bodySlot = bodies.acquire(st.tuple.client);
          if (r.bodySlot == IdsBodies::kNoSlot) {
            r.unbuffered = true;
            ++counters_.ids_response_unbuffered;
            // As an upload's (pipeline_http_request.cc): a server or page that holds every slot
            // with slow downloads must not get the next body through unread (ids.on_fault).
            if (snap_->idsInline() && !snap_->idsFailOpen()) {
              return idsAct(e, ids::ScanResult{}, "body-buffers", &u, false, &tx);
            }
          }
        }
        if (r.unbuffered) break;
        const size_t n = std::min<size_t>(step.body.size(), bodies.limit() - r.bodyLen);
        std::memcpy(bodies.data(r.bodySlot) + r.bodyLen, step.body.data(), n);
        r.bodyLen += uint32_t(n);
        if (n < step.body.size()) counters_.ids_response_body_beyond += step.body.size() - n;
        if (r.bodyLen == bodies.limit()) {
          if (!idsScanResponse(e, st, r, bodies, scratch, u, tx)) return false;
          // Scanned: the rest of the body is not read, so a long download does not keep a slot
          // (and so the 65th concurrent download) for its whole length.
          r.release(bodies);
        }
        break;
      }
      case Kind::End: {
        const bool ok = r.scanned || idsScanResponse(e, st, r, bodies, scratch, u, tx);
        if (!ok) return false;
        r.release(bodies);
        r.scanned = r.unbuffered = false;
        break;
      }
      case Kind::Broken:
        ++counters_.ids_http_response_broken;
        r.release(bodies);
        return true;
      case Kind::NeedMore:
        break;
    }
    // A pass rule or a fault ended the flow's scanning (its IDS slot, with `r`, is released).
    if (e.meta.flags & kFlowIdsDone) return true;
    if (step.kind == Kind::NeedMore && bytes.empty()) break;
  }
  if (fin && ids::closeHttpResponse(r.http)) {
    const bool ok = r.scanned || idsScanResponse(e, st, r, bodies, scratch, u, tx);
    if (!ok) return false;
    r.release(bodies);
  }
  return true;
}

}  // namespace lbg::dataplane
