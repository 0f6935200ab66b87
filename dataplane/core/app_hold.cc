// Apps before payload: on a flow allowed to a service that demands applications (policy `apps:`),
// no payload crosses while nDPI is still identifying it. Client payload is held in the flow's
// hold queue (released in order once the application is named and allowed, freed when the flow
// is denied `app-mismatch`); server payload (a protocol whose server speaks first) is dropped and
// counted, and the server sends it again once the flow may carry it. nDPI is fed every one of
// these packets first (stageAppId() runs before the verdict stage), so identification goes on
// while nothing crosses.
//
// Bound: identification ends after PipelineConfig::appIdPackets packets of the flow (both
// directions, 16 by default): nDPI then names the application or gives up, and a guess is denied
// (`app-mismatch:unidentified`). So at most that many client packets are held per flow, within
// maxHeldPerFlow; an empty hold pool denies (`resource-exhausted:hold-pool`).
//
// Not held: flows whose later bytes a follower reads (HTTP, TLS: the judged message was the
// first payload and nDPI names HTTP and TLS from it), pure ACKs, and flows of services without
// `apps:`. Only the first appIdPackets packets of a flow ever come here (hot-line packet count).

#include <rte_mbuf.h>

#include "dataplane/core/pipeline.h"

namespace lbg::dataplane {

bool Pipeline::holdUntilIdentified(Entry& e, Unit& u, bool fromInitiator, TxSink& tx) {
  if (e.meta.follow != 0 || e.user.policyVersion != snap_->version() ||
      !snap_->serviceDemandsApps(e.user.service)) {
    return false;
  }
  if (e.user.appSlotPlus1 == 0) {
    // Identification is over (enforceApp() allowed the flow): what waited for it goes first.
    if (e.user.hold.count > 0 && !e.user.stream.active()) {
      releaseHeld(e, tx, e.meta.initiatorInside ? PortRole::Outside : PortRole::Inside);
    }
    return false;
  }
  if (u.view.payloadLen == 0) return false;
  if (!fromInitiator) {
    ++counters_.app_server_dropped;
    freeUnit(u);
    return true;
  }
  const uint16_t before = u.count;
  if (holdForFollow(e, u)) {
    counters_.app_held += before;
    return true;
  }
  applyVerdict(e, u, fromInitiator, tx);
  return true;
}

}  // namespace lbg::dataplane
