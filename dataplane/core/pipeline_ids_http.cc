// 7. ids, HTTP on a flow allowed by address: the IDS follows every request of the connection, as
// Suricata's libhtp does, where no HTTP follower of the allow path runs (no name was judged).
// Without it, an inside client sends a harmless first request and then `GET /evil.php` on the
// same kept-alive connection, or cuts its first head across two segments, and no `http.*` rule
// applies.
//
//   probe    the client's first bytes (stageIds, before their payload scan): a request line
//            (ids::httpRequestLineStart, gathered while a prefix cannot tell) takes the flow for
//            HTTP (`ids_http_by_content`; FlowTuple::app Http); anything else: not HTTP, never
//            looked at again
//   heads    each head, found by the allow path's request walk (inspect/http/request_stream.h:
//            Content-Length and chunked bodies and empty lines walked over, so a request line
//            inside a body is not a head), is parsed (inspect/http/request.h) and scanned as
//            sticky buffers (http_head_buffers.h) before the segment that completes it leaves:
//            in ips mode a drop stops the flow at that segment, so the server never gets a whole
//            head. A head cut across segments is gathered at the start of a body slot (≤ 8 KiB,
//            the inspector's bound; the segments before the last leave meanwhile: the server
//            does nothing with a head until it ends)
//   bodies   as for a flow allowed by Host (pipeline_http_request.cc): a body that came whole
//            with its head is http.request_body of the head's scan; any other is gathered as the
//            walk passes over it, when some rule reads it (the gathered head's slot goes on as
//            its buffer)
//   faults   what cannot be followed as HTTP where a head must start or end (garbage instead
//            of a request line, a head the inspector refuses, a head over 8 KiB, framing the
//            walk refuses: request_stream.h's smuggling stance) or no body slot for a cut head:
//            counted `ids_http_unfollowed` and decided by ids.on_fault (`drop`, the default in
//            ips mode: denied `ids-drop:http-framing` / `ids-drop:body-buffers` before the bytes
//            leave; else the connection's later bytes are scanned as stream payload only)
//   tunnels  after a CONNECT or an Upgrade request the connection may stop speaking HTTP/1: its
//            next bytes are followed again only if they begin a request line (a refused
//            upgrade), else the flow is no longer followed (`ids_http_tunnels`; a WebSocket
//            frame or a TLS record never begins with one)
//
// Per flow: IdsHttpFollow (12 bytes) in the flow's IDS slot; a body slot only while a head is
// cut or a body gathered. Nothing is allocated per packet.

#include <algorithm>
#include <cctype>
#include <cstring>

#include "dataplane/core/ids_http_follow.h"
#include "dataplane/core/ids_request.h"
#include "dataplane/core/ids_response.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/ids/engine.h"
#include "dataplane/ids/http_head_buffers.h"
#include "dataplane/inspect/http/request.h"
#include "policy/snapshot.h"

namespace lbg::dataplane {

namespace {

using Mode = IdsHttpFollow::Mode;

bool isHeadMethod(const inspect::HttpRequestHead& h) {
  return h.methodLen == 4 && std::memcmp(h.method, "HEAD", 4) == 0;
}

}  // namespace

bool Pipeline::idsHttpFollow(Entry& e, IdsHttpState& s, std::span<const uint8_t> bytes, Unit& u,
                             TxSink& tx) {
  IdsHttpFollow& h = s.follow;
  IdsRequestFlow& q = s.req;
  IdsBodies& bodies = s.bodies;
  const bool inlineDrop = snap_->idsInline() && !snap_->idsFailOpen();
  // Not followed any more: ids.on_fault decides (stageIds goes on scanning the bytes as payload
  // when the flow is not denied).
  auto unfollowed = [&](const char* why) {
    ++counters_.ids_http_unfollowed;
    h.mode = Mode::Off;
    h.headHeld = 0;
    q.release(bodies);
    return !inlineDrop || idsAct(e, ids::ScanResult{}, why, &u, true, &tx);
  };
  // The rest of the segment is part of a head (or first line) not complete yet: gathered.
  auto gather = [&](std::span<const uint8_t> rest, size_t added) {
    if (h.headHeld > 0) {
      h.headHeld = uint16_t(h.headHeld + added);
      return true;
    }
    q.release(bodies);
    q.slot = bodies.acquire(s.st.tuple.client);
    if (q.slot == IdsBodies::kNoSlot) return unfollowed("body-buffers");
    const size_t n = std::min<size_t>(rest.size(), IdsBodies::kHeadLimit);  // < 8 KiB: the parse
    std::memcpy(bodies.head(q.slot), rest.data(), n);
    h.headHeld = uint16_t(n);
    return true;
  };
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (h.mode == Mode::Http && h.headHeld == 0) {
      // The current request's body and the empty lines after it, up to the next head.
      const bool body = h.walk.at() != inspect::HttpStreamPhase::Head && q.gathering();
      if (body) s.gather.bind(s.st, q, bodies);
      const auto step =
          inspect::httpStreamAdvance(h.walk, bytes.subspan(pos), body ? &s.gather : nullptr);
      pos += step.consumed;
      if (step.status == inspect::Status::Invalid) return unfollowed("http-framing");
      if (body) {
        const bool goesOn =
            h.walk.at() != inspect::HttpStreamPhase::Head && q.bodyLen < bodies.limit();
        const bool ok =
            goesOn ? !snap_->idsInline() || idsRequestBodyEarly(e, s.st, q, bodies, s.scratch)
                   : idsScanRequestBody(e, s.st, q, bodies, s.scratch);
        if (!ok) {
          applyVerdict(e, u, true, tx);
          return false;
        }
        if (e.meta.flags & kFlowIdsDone) return true;  // a pass rule: the slot is released
      }
      if (step.status != inspect::Status::Done) break;
    }
    // A head starts at `pos` (on a flow not taken for HTTP yet, perhaps a request line): in the
    // segment, or after the part gathered from earlier ones.
    const auto rest = bytes.subspan(pos);
    std::span<const uint8_t> head = rest;
    size_t added = 0;
    const size_t heldBefore = h.headHeld;
    if (heldBefore > 0) {
      added = std::min<size_t>(rest.size(), IdsBodies::kHeadLimit - heldBefore);
      std::memcpy(bodies.head(q.slot) + heldBefore, rest.data(), added);
      head = {bodies.head(q.slot), heldBefore + added};
    }
    if (h.mode == Mode::Probe || h.mode == Mode::Tunnel) {
      const ids::RequestLineStart line = ids::httpRequestLineStart(head);
      if (line == ids::RequestLineStart::NeedMore && head.size() < IdsBodies::kHeadLimit) {
        return gather(rest, added);
      }
      if (line != ids::RequestLineStart::Yes) {
        if (h.mode == Mode::Tunnel) ++counters_.ids_http_tunnels;
        h.mode = Mode::Off;  // not HTTP: its bytes are stream payload
        h.headHeld = 0;
        q.release(bodies);
        return true;
      }
      if (h.mode == Mode::Probe) {
        ++counters_.ids_http_by_content;
        h.byContent = true;
        s.st.tuple.app = ids::AppProto::Http;
      }
      h.mode = Mode::Http;
    }
    inspect::HttpRequestHead parsed{};
    const inspect::Status status = inspect::parseHttpRequestHead(head, parsed);
    // Refused only for what it would judge (Host), after the head's end: its framing is known.
    const bool framed =
        status == inspect::Status::Done || (status == inspect::Status::Invalid &&
                                            (parsed.reason == inspect::HttpReason::MissingHost ||
                                             parsed.reason == inspect::HttpReason::HostMismatch));
    const bool connect =
        status == inspect::Status::Invalid && parsed.reason == inspect::HttpReason::Connect;
    if (status == inspect::Status::NeedMore) return gather(rest, added);
    ids::BufferSet buffers;
    const size_t filled = ids::fillHttpHeadBuffers(head, bodies.headScratch(), buffers);
    // CONNECT is refused at its method: where its head ends is the buffers' word.
    if (connect && filled == 0 && head.size() < IdsBodies::kHeadLimit) return gather(rest, added);
    const size_t headLen = framed ? parsed.headLength : filled;
    char host[sizeof parsed.host];
    bool bodyHere = true;
    if (framed || connect) noteHttpRequest(s.resp.http, framed && isHeadMethod(parsed));
    if (framed) {
      if (parsed.hasHost) {  // Suricata's http.host: lowercased, without the port
        for (uint16_t i = 0; i < parsed.hostLen; ++i)
          host[i] = char(std::tolower(static_cast<unsigned char>(parsed.host[i])));
        buffers.set(ids::Buffer::HttpHost, std::string_view(host, parsed.hostLen));
      }
      bodyHere = setRequestBody(buffers, parsed, head);
    }
    if (filled > 0) {
      ids::Engine::setTime(s.scratch, now_);
      if (!idsAct(e, snap_->idsEngine()->scanBuffers(s.st, ids::kToServer, buffers, s.scratch),
                  nullptr, &u, true, &tx)) {
        return false;
      }
      if (e.meta.flags & kFlowIdsDone) return true;  // a pass rule: the slot is released
    }
    if ((!framed && !connect) || headLen == 0 || headLen <= heldBefore) {
      return unfollowed("http-framing");
    }
    pos += headLen - heldBefore;
    h.headHeld = 0;
    inspect::HttpStreamReason why;
    if (connect || !inspect::httpStreamStartBody(h.walk, parsed, why)) {
      if (!connect && why != inspect::HttpStreamReason::Upgrade) return unfollowed("http-framing");
      h.walk = {};
      h.mode = Mode::Tunnel;
      q.release(bodies);
      continue;
    }
    if (bodyHere) {
      q.release(bodies);  // a gathered head whose body needs no buffer
      continue;
    }
    // The body comes after: gathered from the head's end (its slot's head stays where it is).
    const auto headBytes = heldBefore > 0 ? std::span<const uint8_t>(bodies.head(q.slot), headLen)
                                          : head.first(headLen);
    if (!idsRequestBodyBegin(e, q, bodies, headBytes)) {
      applyVerdict(e, u, true, tx);
      return false;
    }
  }
  return true;
}

}  // namespace lbg::dataplane
