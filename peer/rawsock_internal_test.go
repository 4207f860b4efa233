package peer

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tcpPair returns both ends of a loopback TCP connection, closed at cleanup.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	b := <-accepted
	require.NotNil(t, b)
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

// TestPlainTCP: the socket is found under layers that pass bytes through, and not under a
// replay that still holds bytes or an unknown layer.
func TestPlainTCP(t *testing.T) {
	a, _ := tcpPair(t)
	assert.Same(t, a, plainTCP(a))
	assert.Same(t, a, plainTCP(&admittedConn{Conn: a}))
	drained := newReplayConn(&admittedConn{Conn: a}, nil)
	assert.Same(t, a, plainTCP(drained))
	assert.Nil(t, plainTCP(newReplayConn(a, []byte{19})), "a replayed byte is still to be read")
	type other struct{ net.Conn }
	assert.Nil(t, plainTCP(other{a}), "a layer we do not know may change the bytes")
	assert.Nil(t, plainTCP(nil))
}

// TestRawSocket: reads and writes through the raw socket carry the stream both ways, keep
// the deadlines set on the connection, and end with io.EOF.
func TestRawSocket(t *testing.T) {
	if runtime.GOOS != "linux" {
		assert.Nil(t, newRawSocket(&net.TCPConn{}))
		return
	}
	a, b := tcpPair(t)
	ra, rb := newRawSocket(&admittedConn{Conn: a}), newRawSocket(b)
	require.NotNil(t, ra)
	require.NotNil(t, rb)

	data := bytes.Repeat([]byte("swarm raw socket "), 1<<16) // 1 MiB: more than a socket buffer
	done := make(chan error, 1)
	go func() {
		n, err := ra.Write(data)
		if err == nil && n != len(data) {
			err = io.ErrShortWrite
		}
		done <- err
	}()
	got := make([]byte, len(data))
	_, err := io.ReadFull(rb, got)
	require.NoError(t, err)
	require.NoError(t, <-done)
	assert.True(t, bytes.Equal(data, got))

	require.NoError(t, b.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
	_, err = rb.Read(make([]byte, 10))
	assert.True(t, errors.Is(err, os.ErrDeadlineExceeded), "a read deadline on the conn holds: %v", err)
	require.NoError(t, b.SetReadDeadline(time.Time{}))

	n, err := rb.Read(nil)
	assert.Zero(t, n)
	assert.NoError(t, err)

	require.NoError(t, a.Close())
	_, err = rb.Read(make([]byte, 10))
	assert.ErrorIs(t, err, io.EOF)
	_, err = ra.Write([]byte("x"))
	assert.Error(t, err, "writing a closed connection fails")
}
