package wire

import (
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPipeExchange runs both sides of a connection over net.Pipe: handshakes, then messages.
func TestPipeExchange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		done := make(chan error, 1)
		go func() {
			if err := WriteHandshake(a, testHandshake()); err != nil {
				done <- err
				return
			}
			var out []byte
			for _, m := range allMessages() {
				out = AppendMessage(out, m)
			}
			_, err := a.Write(out)
			done <- err
		}()
		h, err := ReadHandshake(b)
		require.NoError(t, err)
		assert.Equal(t, testHandshake(), h)
		r := NewReader(b, testLimits)
		for _, want := range allMessages() {
			got, err := r.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, want, got)
		}
		require.NoError(t, <-done)
	})
}

// TestSilentPeer shows the caller's deadline ending a handshake or a message read from a peer
// that connects and says nothing (fake time: the test does not wait).
func TestSilentPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		require.NoError(t, b.SetReadDeadline(time.Now().Add(10*time.Second)))
		start := time.Now()
		_, err := ReadHandshake(b)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		assert.Equal(t, 10*time.Second, time.Since(start))
		require.NoError(t, b.SetReadDeadline(time.Now().Add(time.Minute)))
		_, err = NewReader(b, testLimits).ReadMessage()
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		assert.ErrorContains(t, err, "read message")
	})
}
