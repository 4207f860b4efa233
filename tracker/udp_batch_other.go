//go:build !linux

package tracker

import "net"

func newPlatformBatchConn(c *net.UDPConn) (batchConn, error) {
	return &singleConn{c: c}, nil
}
