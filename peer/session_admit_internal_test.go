package peer

import (
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// addrConn is one end of a net.Pipe that claims a TCP remote address.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c *addrConn) RemoteAddr() net.Addr { return c.remote }

func pipeFrom(t *testing.T, ip string) (*addrConn, net.Conn) {
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return &addrConn{Conn: a, remote: &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000}}, b
}

func TestAdmissionPerAddressCountIsReleasedOnClose(t *testing.T) {
	a := newAdmission(2, 10)
	c1, _ := pipeFrom(t, "10.0.0.1")
	c2, _ := pipeFrom(t, "10.0.0.1")
	c3, _ := pipeFrom(t, "10.0.0.1")
	other, _ := pipeFrom(t, "10.0.0.2")
	ac1, ok := a.admit(c1)
	require.True(t, ok)
	_, ok = a.admit(c2)
	require.True(t, ok)
	_, ok = a.admit(c3)
	assert.False(t, ok, "a third connection from the address")
	_, ok = a.admit(other)
	assert.True(t, ok, "another address is not affected")

	a.handshaken(ac1)
	require.NoError(t, ac1.Close())
	require.NoError(t, ac1.Close()) // twice: counted once
	_, ok = a.admit(c3)
	assert.True(t, ok, "a closed connection frees its address's slot")
	assert.Equal(t, 2, a.perIP[ac1.ip])
	assert.Len(t, a.pending, 3)
}

func TestAdmissionFullBudgetClosesTheOldestSilent(t *testing.T) {
	a := newAdmission(8, 2)
	c1, _ := pipeFrom(t, "10.0.0.1")
	c2, peer2 := pipeFrom(t, "10.0.0.2")
	c3, _ := pipeFrom(t, "10.0.0.3")
	ac1, _ := a.admit(c1)
	ac2, _ := a.admit(c2)
	go func() { _, _ = peer2.Write([]byte{19}) }()
	var b [1]byte
	_, err := ac2.Read(b[:]) // c2 has spoken, c1 is silent
	require.NoError(t, err)
	ac3, ok := a.admit(c3)
	require.True(t, ok, "a full budget never refuses a newcomer")
	assert.Equal(t, []*admittedConn{ac2, ac3}, a.pending)
	_, err = ac1.Read(b[:])
	assert.ErrorIs(t, err, io.ErrClosedPipe, "the silent one was closed")
}
