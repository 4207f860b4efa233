package mse_test

import (
	"io"
	"net"
	"testing"

	"github.com/swarm-bt/swarm/peer/mse"
)

// BenchmarkStream measures the cost of the stream after the handshake: one side writes 16 KiB
// blocks and the other reads them, over net.Pipe, so the figure is CPU per byte of RC4 (both
// directions' ciphers) plus the pipe, against the same pipe unencrypted.
func BenchmarkStream(b *testing.B) {
	for _, m := range []mse.Method{mse.RC4, mse.Plaintext} {
		b.Run(m.String(), func(b *testing.B) {
			x, y := net.Pipe()
			defer x.Close()
			defer y.Close()
			ih := [20]byte{1}
			errc := make(chan error, 1)
			var w *mse.Conn
			go func() {
				var err error
				w, err = mse.Initiate(b.Context(), x, mse.InitiatorConfig{InfoHash: ih, Provide: m})
				errc <- err
			}()
			r, _, err := mse.Respond(b.Context(), y, mse.ResponderConfig{
				Lookup: func([20]byte) ([20]byte, bool) { return ih, true }, Allow: m})
			if err != nil {
				b.Fatal(err)
			}
			if err := <-errc; err != nil {
				b.Fatal(err)
			}
			block := make([]byte, 16<<10)
			go func() {
				buf := make([]byte, 64<<10)
				for {
					if _, err := r.Read(buf); err != nil {
						return
					}
				}
			}()
			b.SetBytes(int64(len(block)))
			b.ResetTimer()
			for range b.N {
				if _, err := w.Write(block); err != nil && err != io.EOF {
					b.Fatal(err)
				}
			}
		})
	}
}
