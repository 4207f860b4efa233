package peer_test

import (
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/wire"
)

// TestSeederSuggestsDistinctPieces: a seed suggests (BEP 6) to each Fast leecher it unchokes
// pieces it gave no other leecher, before the unchoke; a piece taken up is replaced by a new
// one; a request for a piece suggested to someone else is served all the same; the pieces of
// a leecher that left, never completed, go to the next leecher before any other.
func TestSeederSuggestsDistinctPieces(t *testing.T) {
	tor, err := peertest.NewTorrent("spread.bin", 4<<20, 16<<10, 7) // 256 pieces
	require.NoError(t, err)
	const ahead = 32 // suggestAhead: 5 MiB of 16 KiB pieces, capped at 32
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		seeder := hNode(t, nw, tor, peertest.Options{Seed: true})
		// join connects a leecher with nothing and returns the suggestions it got before
		// the unchoke.
		join := func(name string) (*rawPeer, map[uint32]bool) {
			p := dialExt(t, nw, tor, seeder.Addr, rawID(name))
			p.send(wire.Message{ID: wire.HaveNone})
			p.send(wire.Message{ID: wire.Interested})
			sug := map[uint32]bool{}
			for {
				m, err := p.next()
				require.NoError(t, err)
				switch m.ID {
				case wire.Suggest:
					require.False(t, sug[m.Index], "piece %d suggested twice", m.Index)
					sug[m.Index] = true
				case wire.Unchoke:
					return p, sug
				}
			}
		}
		a, sa := join("a")
		b, sb := join("b")
		require.Len(t, sa, ahead)
		require.Len(t, sb, ahead)
		for x := range sa {
			assert.False(t, sb[x], "piece %d suggested to both leechers", x)
		}

		// a takes up one of its suggestions: it is served, and a new piece is suggested.
		var x uint32
		for x = range sa {
			break
		}
		a.send(wire.Message{ID: wire.Request, Index: x, Begin: 0, Length: wire.BlockSize})
		var topUp uint32
		for got, served := false, false; !got || !served; {
			m, err := a.next()
			require.NoError(t, err)
			switch m.ID {
			case wire.Piece:
				served = served || m.Index == x
			case wire.Suggest:
				require.False(t, got, "one piece taken up, one new suggestion")
				got, topUp = true, m.Index
			}
		}
		assert.False(t, sa[topUp] || sb[topUp], "the new suggestion %d was given to nobody", topUp)

		// b asks for a piece suggested to a: nothing is refused.
		var y uint32
		for y = range sa {
			if y != x {
				break
			}
		}
		b.send(wire.Message{ID: wire.Request, Index: y, Begin: 0, Length: wire.BlockSize})
		assert.Equal(t, y, b.expect(wire.Piece).Index)

		// a leaves with nothing completed: its pieces are suggested to the next leecher first.
		require.NoError(t, a.c.Close())
		synctest.Wait()
		_, sc := join("c")
		require.Len(t, sc, ahead)
		for z := range sc {
			assert.True(t, sa[z] || z == topUp, "c is suggested %d, not one of a's pieces", z)
		}
	})
}
