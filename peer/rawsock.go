package peer

import (
	"net"

	"github.com/swarm-bt/swarm/peer/mse"
)

// plainTCP returns the TCP socket under the engine's connection layers (admission, the
// replay of bytes read while sniffing the handshake, MSE) when none of them changes the
// bytes any more, or nil. Call it before the connection's reader and writer start: the
// layers' state is read without locks.
func plainTCP(nc net.Conn) *net.TCPConn {
	for {
		switch c := nc.(type) {
		case *net.TCPConn:
			return c
		case *admittedConn:
			nc = c.Conn // counts the first byte only; the handshake is past
		case *replayConn:
			if c.head.Len() > 0 {
				return nil
			}
			nc = c.Conn
		case *mse.Conn:
			inner, ok := c.Plain()
			if !ok {
				return nil
			}
			nc = inner
		default:
			return nil
		}
	}
}
