#pragma once

#include "dataplane/ha/sync_counters.h"
#include "dataplane/telemetry/counters.h"

// The DDoS guard's counters (dataplane/guard, pipeline_guard.cc): a sub-list spliced into the
// pipeline's below, so they stay fields of PipelineCounters, and the `ddos` section of
// `lbgctl stats` is derived from it (counter_sections.h) rather than from a second list of names.
#define LBG_GUARD_COUNTERS(X)                                                               \
  X(guard_rate_limited, "new flows refused: the inside source exceeded its new-flow rate")  \
  X(guard_concurrent_limited, "new flows refused: the inside source has too many flows")    \
  X(guard_outside_dropped, "packets from outside matching no flow, dropped without state")  \
  X(guard_sources_full, "new flows refused: the guard's source table was full (fail closed)")\
  X(guard_udp_flood_dropped, "UDP packets over their destination's flood limit, dropped")   \
  X(guard_icmp_flood_dropped, "ICMP packets over their destination's flood limit, dropped") \
  X(guard_fragment_flood_dropped, "IP fragments over their destination's limit, dropped")   \
  X(guard_dests_full, "UDP/ICMP/fragments dropped: no destination slot free (fail closed)") \
  X(guard_deny_summaries, "ddos records: denied packets of one source and reason per interval")\
  X(guard_deny_unsummarised, "denied packets not aggregated: the summary table was full")

// Pipeline counters of one worker lcore, declared once (ARCHITECTURE: counters are declared once).
#define LBG_PIPELINE_COUNTERS(X)                                                           \
  X(rx_packets, "frames received on both ports")                                          \
  X(rx_bytes, "bytes received on both ports")                                             \
  X(tx_packets, "frames forwarded or generated")                                          \
  X(l2_passed, "ARP frames passed at layer 2")                                            \
  X(l2_dropped, "non-IP, non-ARP frames dropped (fail closed)")                           \
  X(decode_malformed, "malformed frames dropped")                                         \
  X(multiseg_dropped, "multi-segment mbufs that could not be linearised, dropped")        \
  X(direction_unknown, "replay packets with neither address inside, treated as inbound")  \
  X(fragments_held, "IP fragments held for reassembly")                                   \
  X(fragments_reassembled, "datagrams reassembled from fragments")                        \
  X(fragments_dropped, "IP fragments dropped (overlap, timeout, limits)")                 \
  X(flows_new, "flows created")                                                           \
  X(flows_allowed, "flows given an allow verdict")                                        \
  X(flows_denied, "flows given a deny verdict")                                           \
  X(flows_ended, "flows ended (closed, timed out, evicted, shutdown)")                    \
  X(flow_table_full, "packets dropped because no flow entry could be made")               \
  X(flows_evicted, "flows evicted (full buckets, or the oldest embryonic one)")           \
  X(packets_denied, "packets dropped because their flow is denied")                       \
  X(packets_held, "client packets held until their flow had a verdict")                   \
  X(hold_exhausted, "flows denied because the hold pool was exhausted")                   \
  X(stream_exhausted, "flows denied because no stream buffer was free")                   \
  X(resets_sent, "TCP resets generated")                                                  \
  X(reset_alloc_failed, "TCP resets not sent for lack of mbufs")                          \
  X(icmp_passed, "ICMP errors of allowed flows and IPv6 neighbour discovery passed")     \
  X(icmp_dropped, "ICMP messages dropped (echo, errors of no allowed flow, redirects)")   \
  X(tcp_invalid, "TCP packets with an invalid state transition")                         \
  X(bad_checksum, "inspected packets with a bad TCP/UDP checksum (not trusted)")         \
  X(dns_answers, "DNS answer records that bound an address to a name")                           \
  X(dns_invalid, "DNS responses that failed to parse")                                    \
  X(dns_tcp_skipped, "DNS-over-TCP segments not read (no known message boundary)")        \
  X(dns_queries, "DNS queries noted as waiting for their answer")                         \
  X(dns_query_overflow, "DNS queries not noted, the query table was full (answer unbound)") \
  X(dns_query_expired, "DNS queries that expired without an answer")                      \
  X(dns_unsolicited, "DNS answers to no outstanding query, dropped")                      \
  X(dns_mismatched, "DNS answers whose question differs from the query's, dropped")       \
  X(dns_duplicate, "DNS answers to an already answered query, dropped")                   \
  X(dns_inside_answer, "DNS answers arriving from the client's (inside) port, dropped")   \
  X(dns_outside_query, "DNS queries arriving from the resolver's (outside) port, dropped")  \
  X(dns_not_resolver, "DNS messages of port-53 flows to servers not named as resolvers")  \
  X(dns_query_denied, "DNS queries dropped: a name no service lists, or unreadable (dns.queries)") \
  X(http_requests_followed, "later request heads judged on allowed HTTP connections")     \
  X(http_follow_gap, "client segments of a followed HTTP connection dropped: ahead of a gap") \
  X(tls_hellos_followed, "later ClientHellos judged on allowed TLS connections")          \
  X(tls_follow_ended, "allowed TLS connections followed to their encrypted phase")        \
  X(tls_follow_gap, "client segments of a followed TLS connection dropped: ahead of a gap") \
  X(wrong_port_dropped, "packets of a known flow entering from the other side's port, dropped") \
  X(tcp_midstream_denied, "TCP flows denied because their first packet was not a SYN")     \
  X(tcp_syn_on_live_dropped, "client SYNs on a live connection dropped (no verdict inherited)") \
  X(tcp_urgent_dropped, "client segments with URG dropped (urgent byte seen differently)")  \
  X(tcp_discard_option_dropped, "client IPv6 packets with a discard-type option dropped")   \
  X(tcp_ttl_raised, "client segments whose TTL/hop limit was raised to the floor")         \
  X(tcp_low_ttl_dropped, "reassembled client segments below the TTL floor, dropped")       \
  X(tcp_bad_ack_dropped, "client segments of allowed flows without ACK or acking unsent data") \
  X(tcp_after_fin_dropped, "client data past the client's own FIN, dropped")               \
  X(stream_ahead_dropped, "client data of allowed flows beyond a gap, dropped (resent later)") \
  X(stream_guard_full, "client data of allowed flows dropped: ring allowance or pool full")  \
  X(stream_guard_exhausted, "flows denied at their verdict: no ring to keep judged bytes")  \
  LBG_GUARD_COUNTERS(X)                                                                     \
  X(events_lost, "log events lost because the event ring was full")                     \
  X(appid_unidentified, "flows left without application identification (nDPI slots full)") \
  X(cert_checks, "TLS flows allowed by SNI whose server flight is checked")                \
  X(cert_server_held, "server packets held until the certificate verdict")                 \
  X(cert_tls13_passed, "TLS 1.3 server flights passed unchecked (certificate encrypted)")   \
  X(cert_no_certificate, "TLS server flights without a Certificate (resumption, PSK), passed") \
  X(cert_server_alert, "TLS server flights that began with an alert, passed (no handshake)") \
  X(cert_flight_invalid, "flows denied: malformed TLS server flight")                      \
  X(cert_flight_limit, "flows denied: server flight beyond the hold or chain bounds")      \
  X(cert_slots_exhausted, "flows denied: no certificate request free (fail closed)")       \
  X(cert_verify_requests, "certificate lists sent to the verifier thread")                 \
  X(cert_verify_answers, "verifier answers applied to their flow")                         \
  X(cert_late_answers, "verifier answers for flows that had ended")                        \
  X(cert_cache_hits, "certificate verdicts found in the worker's cache")                   \
  X(cert_cache_misses, "certificate verdicts not in the worker's cache")                   \
  X(cert_cache_displaced, "cached certificate verdicts displaced by newer ones (cache full)") \
  X(cert_cache_flushes, "certificate-verdict cache flushes applied by this worker (lbgctl certs flush)") \
  X(cert_verified, "server certificates accepted")                                         \
  X(cert_refused, "server certificates refused: flow denied and reset")                   \
  X(cert_log_only, "certificate refusals only logged (service `certificate: {check: log}`)") \
  X(cert_probe_requests, "TLS destinations sent to the prober (ClientHello held)")         \
  X(cert_probe_cache_hits, "probe verdicts found in the worker's cache")                  \
  X(cert_probe_cache_misses, "probe verdicts not in the worker's cache")                  \
  X(cert_probe_passed, "held ClientHellos released: the destination proved its name")     \
  X(cert_probe_refused, "flows denied by a probe verdict (cert-*, cert-probe-*) and reset") \
  X(cert_probe_held_dropped, "client and server payload dropped while a probe was pending (resent)") \
  X(cert_probe_flows, "the gateway's own probe connections admitted from the exception port") \
  X(cert_probe_unavailable, "TLS 1.3 offers not probed: no exception port (replay), passed")  \
  X(hold_other_side_dropped, "TLS payload dropped while the other side's bytes were held (resent)") \
  X(app_held, "payload packets held until nDPI named the application a service demands")  \
  X(app_server_dropped, "server payload dropped before the application was named (resent)")  \
  X(intercept_flows, "flows handed to lbg-proxy through the exception port")              \
  X(intercept_to_proxy, "frames of intercepted flows sent to the exception port")         \
  X(intercept_from_proxy, "frames from the exception port sent on to the inside or outside") \
  X(intercept_unmatched, "frames from the exception port of no intercepted flow, dropped")   \
  X(intercept_refused, "intercepted flows refused: the proxy was not listening (fail closed)") \
  X(intercept_unavailable, "flows to intercept denied: VLAN-tagged or IPv6 (not handed to the kernel)") \
  X(intercept_bypass_refused, "flows naming an intercept service without being handed to lbg-proxy, refused") \
  X(ids_scanned_bytes, "payload bytes of allowed flows scanned by the IDS")                 \
  X(ids_alerts, "IDS alerts logged (one per matching rule)")                               \
  X(ids_dropped, "flows denied by an IDS drop/reject rule (ips mode)")                      \
  X(ids_passed, "flows exempted from further scanning by an IDS pass rule")                \
  X(ids_state_full, "allowed flows without IDS state: the worker's IDS flow pool was full") \
  X(ids_faults, "IDS scans that failed (Hyperscan error); ids.on_fault decides")          \
  X(ids_depth_reached, "flows whose scanned bytes reached the stream depth: ids.on_fault decided") \
  X(ids_tls_encrypted, "TLS flows whose scanning ended where their encrypted records began") \
  X(ids_threshold_full, "IDS matches alerted untracked: the worker's threshold table was full") \
  X(ids_stream_gap, "segments beyond the IDS's scanned edge (ips: dropped, resent later)") \
  X(ids_server_ttl_raised, "server segments the IDS scanned whose TTL/hop limit was raised to the floor") \
  X(ids_server_ttl_dropped, "reassembled server segments below the TTL floor, dropped unscanned") \
  X(ids_dns_tcp_queries, "DNS-over-TCP queries whose question the IDS read (dns.query)")  \
  X(ids_http_responses, "HTTP responses whose stat_code/body buffers the IDS scanned")     \
  X(ids_response_body_beyond, "HTTP response body bytes past the inspection limit, not scanned as a buffer") \
  X(ids_response_unbuffered, "HTTP responses whose body found no free body buffer: ids.on_fault decided") \
  X(ids_response_decoded, "HTTP response bodies decoded (gzip/deflate) before their scan")   \
  X(ids_response_decode_failed, "HTTP response bodies not what their Content-Encoding says: scanned as sent") \
  X(ids_response_coding_unsupported, "HTTP response bodies with a coding not decoded (br, 3+ layers): scanned as sent") \
  X(ids_http_by_content, "TCP flows allowed without a name whose first bytes are an HTTP request: inspected as HTTP") \
  X(ids_http_unfollowed, "HTTP connections allowed by address whose requests the IDS could not follow (not HTTP framing, a head over 8 KiB, no buffer for a cut head): ids.on_fault decided") \
  X(ids_http_tunnels, "HTTP connections allowed by address that stopped speaking HTTP after a CONNECT or Upgrade request: no longer followed") \
  X(ids_http_request_bodies, "HTTP upload bodies that did not come with their head, scanned as http.request_body where they ended") \
  X(ids_request_body_limit, "HTTP upload bodies scanned at the inspection limit: the rest is not part of the buffer") \
  X(ids_request_body_early, "HTTP upload bodies scanned before their end, their new bytes holding a drop rule's fast pattern") \
  X(ids_request_decoded, "HTTP upload bodies decoded (gzip/deflate) before their scan")      \
  X(ids_request_decode_failed, "HTTP upload bodies not what their Content-Encoding says: scanned as sent") \
  X(ids_request_coding_unsupported, "HTTP upload bodies with a coding not decoded (br, 3+ layers): scanned as sent") \
  X(ids_request_unbuffered, "HTTP upload bodies that found no free body buffer: ids.on_fault decided") \
  X(ids_body_client_capped, "HTTP body buffers refused to a client holding its share (idsBodiesPerClient)") \
  X(ids_http_response_broken, "server streams the HTTP response follower could not read: not followed") \
  LBG_HA_SYNC_WORKER_COUNTERS(X)

namespace lbg::dataplane {
LBG_DECLARE_COUNTERS(PipelineCounters, LBG_PIPELINE_COUNTERS);
}  // namespace lbg::dataplane
