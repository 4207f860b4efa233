//go:build !linux

package peer

import (
	"errors"
	"net"
)

// rawSocket exists on Linux only (rawsock_linux.go); elsewhere newRawSocket returns nil and
// connections use net.Conn.
type rawSocket struct{}

var errNoRawSocket = errors.New("raw sockets are Linux only")

func newRawSocket(net.Conn) *rawSocket { return nil }

func (*rawSocket) Read([]byte) (int, error)  { return 0, errNoRawSocket }
func (*rawSocket) Write([]byte) (int, error) { return 0, errNoRawSocket }
