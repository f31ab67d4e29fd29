// Package console is hoofbeat's interactive serial console client for Nova
// instances: it talks to nova-serialproxy at the URL Nova's remote-consoles
// API returns (protocol serial, microversion >= 2.6), e.g.
// ws://controller:6083/?token=….
//
// # The protocol, as nova-serialproxy really speaks it
//
// nova-serialproxy is nova/console/websocketproxy.py on top of websockify.
// What this client does, and why:
//
//   - Subprotocols: it offers "binary,base64", in that order and with no
//     space. websockify (every version since 0.9, i.e. every supported
//     nova) splits the header on "," without trimming and selects "binary"
//     if it is there, otherwise no subprotocol, and answers 400 "Invalid
//     protocol selected" when the offer lacks both. websockify before 0.9
//     preferred "binary" and fell back to "base64", in which case both
//     directions are base64 in text frames; the client supports that too,
//     decoding each frame on its own.
//   - Frames: console bytes go out as binary frames (websockify >= 0.9
//     closes with 1003 on a text frame), at most 32 KiB each, in order, from
//     one writer goroutine. The proxy sends whatever it read from the
//     compute host's serial port, one binary frame per read (up to 64 KiB).
//   - Token: it stays in the URL query, where nova looks first (a "token"
//     cookie is the noVNC fallback). The token is never printed: messages
//     show host:port only.
//   - Origin: nova compares the Origin's host with the Host header's host
//     (or console.allowed_origins) and its scheme with base_url's (ws or
//     http, wss or https); a missing Origin passes as a non-browser client.
//     The client sends http(s)://host:port derived from the URL unless told
//     otherwise (Options.Origin, NoOrigin).
//   - Rejection: nova checks the token and the Origin after the websocket
//     upgrade. A bad or expired token is therefore an HTTP 101 followed by
//     the TCP connection being closed without a close frame. The client
//     reports a connection that ends that way before any console byte as
//     KindRejected (token rejected or expired, or the proxy could not reach
//     the compute host); an HTTP 401/403 before the upgrade (a front proxy)
//     is KindRejected too.
//   - End: when the guest side closes, websockify sends close 1000 "Target
//     closed"; that ends the session normally. A connection lost after
//     output is KindLost.
//   - Keepalive: websocket pings every Options.Keepalive (30s); websockify
//     answers them itself, they never reach the guest.
//   - TLS: wss:// is verified with Options.TLS (nil: system roots). HTTP/2
//     is never negotiated (an upgrade needs HTTP/1.1).
//
// A serial port has one reader: while another client (a second hoofbeat, a
// browser) holds the console, a new session may connect and stay silent.
// Serial consoles also have no window size: set it in the guest (stty rows
// R cols C) if full-screen programs look wrong.
package console
